namespace SharpCtr.Tensors.Nn;

/// <summary>
/// A stack of T5 decoder blocks sharing one unidirectional relative position bias (for the causal
/// self-attention), followed by a final RMS norm. Inputs are already-embedded (shifted) targets.
/// </summary>
public sealed class T5Decoder : Module
{
    public readonly T5RelativePositionBias RelBias;
    public readonly T5DecoderLayer[] Layers;
    public readonly RmsNorm FinalNorm;

    public T5Decoder(int dModel, int heads, int headDim, int dFf, int layers, Rng rng,
        int numBuckets = 32, int maxDistance = 128, float dropout = 0f, float eps = 1e-6f)
    {
        RelBias = new T5RelativePositionBias(heads, bidirectional: false, rng, numBuckets, maxDistance);
        Layers = new T5DecoderLayer[layers];
        for (int i = 0; i < layers; i++) Layers[i] = new T5DecoderLayer(dModel, heads, headDim, dFf, rng, dropout, eps);
        FinalNorm = new RmsNorm(dModel, eps);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("rel_bias", RelBias);
        for (int i = 0; i < Layers.Length; i++) yield return ("layers." + i, Layers[i]);
        yield return ("final_norm", FinalNorm);
    }

    /// <summary>x [B, Lt, D], memory [B, Ls, D], memoryKeep [B, Ls], targetKeep [B, Lt] → [B, Lt, D].</summary>
    public Tensor Forward(Tensor x, Tensor memory, Tensor? memoryKeep = null, Tensor? targetKeep = null)
    {
        int len = x.Shape[1];
        var bias = RelBias.Forward(len, len);
        foreach (var layer in Layers) x = layer.Forward(x, memory, memoryKeep, bias, targetKeep);
        return FinalNorm.Forward(x);
    }
}
