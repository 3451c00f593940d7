namespace SharpCtr.Tensors.Nn;

/// <summary>T5's attention: multi-head attention without biases and without 1/sqrt(d) scaling, T5-initialised.</summary>
static class T5Attention
{
    public static MultiHeadAttention Create(int dModel, int heads, int headDim, Rng rng)
    {
        var a = new MultiHeadAttention(dModel, heads, rng, headDim, bias: false, scaled: false);
        // T5 folds the missing score scaling into the query initialisation.
        Init.Normal(a.Q.Weight, rng, 1f / MathF.Sqrt(dModel * headDim));
        Init.Normal(a.K.Weight, rng, 1f / MathF.Sqrt(dModel));
        Init.Normal(a.V.Weight, rng, 1f / MathF.Sqrt(dModel));
        Init.Normal(a.O.Weight, rng, 1f / MathF.Sqrt(heads * headDim));
        return a;
    }
}
