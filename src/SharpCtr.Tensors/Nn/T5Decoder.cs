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

    /// <summary>
    /// Projects the memory [R, Ls, D] (encoder output, keep [R, Ls]) into every layer's
    /// cross-attention keys and values once, for <see cref="Forward(Tensor, T5DecoderCache, Tensor?)"/> and <see cref="Step"/>.
    /// </summary>
    public T5DecoderCache CreateCache(Tensor memory, Tensor? memoryKeep = null)
    {
        var keys = new Tensor[Layers.Length];
        var values = new Tensor[Layers.Length];
        for (int i = 0; i < Layers.Length; i++)
        {
            keys[i] = Layers[i].CrossAttn.K.Forward(memory);
            values[i] = Layers[i].CrossAttn.V.Forward(memory);
        }
        return new T5DecoderCache(keys, values, memoryKeep);
    }

    /// <summary>Teacher-forced decoding of the whole target x [R, Lt, D] against a cache's projected memory (its rows) → [R, Lt, D].</summary>
    public Tensor Forward(Tensor x, T5DecoderCache cache, Tensor? targetKeep = null)
    {
        int len = x.Shape[1];
        var bias = RelBias.Forward(len, len);
        for (int i = 0; i < Layers.Length; i++) x = Layers[i].Forward(x, cache, i, bias, targetKeep);
        return FinalNorm.Forward(x);
    }

    /// <summary>
    /// Decodes one more token: x [R, 1, D] is the embedding of the token at position cache.Length
    /// for each of the cache's rows; returns its output [R, 1, D] and advances the cache.
    /// </summary>
    public Tensor Step(Tensor x, T5DecoderCache cache)
    {
        int t = cache.Length;
        var bias = Ops.Slice(RelBias.Forward(t + 1, t + 1), 1, t, 1);     // [H, 1, t + 1]: position t against 0..t
        for (int i = 0; i < Layers.Length; i++) x = Layers[i].Step(x, cache, i, bias);
        cache.Advance();
        return FinalNorm.Forward(x);
    }
}
