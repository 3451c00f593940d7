namespace SharpCtr.Tensors.Nn;

/// <summary>
/// A stack of T5 encoder blocks sharing one bidirectional relative position bias, followed by a
/// final RMS norm. Inputs are already-embedded tokens.
/// </summary>
public sealed class T5Encoder : Module
{
    public readonly T5RelativePositionBias RelBias;
    public readonly T5EncoderLayer[] Layers;
    public readonly RmsNorm FinalNorm;

    public T5Encoder(int dModel, int heads, int headDim, int dFf, int layers, Rng rng,
        int numBuckets = 32, int maxDistance = 128, float dropout = 0f, float eps = 1e-6f)
    {
        RelBias = new T5RelativePositionBias(heads, bidirectional: true, rng, numBuckets, maxDistance);
        Layers = new T5EncoderLayer[layers];
        for (int i = 0; i < layers; i++) Layers[i] = new T5EncoderLayer(dModel, heads, headDim, dFf, rng, dropout, eps);
        FinalNorm = new RmsNorm(dModel, eps);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("rel_bias", RelBias);
        for (int i = 0; i < Layers.Length; i++) yield return ("layers." + i, Layers[i]);
        yield return ("final_norm", FinalNorm);
    }

    /// <summary>x [B, L, D], keyKeep [B, L] (1 = real token) → [B, L, D].</summary>
    public Tensor Forward(Tensor x, Tensor? keyKeep = null)
    {
        int len = x.Shape[1];
        var bias = RelBias.Forward(len, len);
        foreach (var layer in Layers) x = layer.Forward(x, keyKeep, bias);
        return FinalNorm.Forward(x);
    }
}
