namespace SharpCtr.Tensors.Nn;

/// <summary>
/// One T5 decoder block, pre-norm: causal self-attention with the shared unidirectional position
/// bias, cross-attention to the encoder output (no position bias, as in T5), then the feed-forward.
/// </summary>
public sealed class T5DecoderLayer : Module
{
    public readonly RmsNorm SelfAttnNorm, CrossAttnNorm, FfNorm;
    public readonly MultiHeadAttention SelfAttn, CrossAttn;
    public readonly T5FeedForward Ff;
    public readonly float DropoutP;
    readonly Rng dropoutRng;
    protected override IEnumerable<(string, Rng)> LocalRngs() { yield return ("dropout", dropoutRng); }

    public T5DecoderLayer(int dModel, int heads, int headDim, int dFf, Rng rng, float dropout = 0f, float eps = 1e-6f)
    {
        SelfAttnNorm = new RmsNorm(dModel, eps);
        SelfAttn = T5Attention.Create(dModel, heads, headDim, rng);
        CrossAttnNorm = new RmsNorm(dModel, eps);
        CrossAttn = T5Attention.Create(dModel, heads, headDim, rng);
        FfNorm = new RmsNorm(dModel, eps);
        Ff = new T5FeedForward(dModel, dFf, rng, dropout);
        DropoutP = dropout;
        dropoutRng = rng.Fork();
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("self_attn_norm", SelfAttnNorm);
        yield return ("self_attn", SelfAttn);
        yield return ("cross_attn_norm", CrossAttnNorm);
        yield return ("cross_attn", CrossAttn);
        yield return ("ff_norm", FfNorm);
        yield return ("ff", Ff);
    }

    /// <summary>
    /// x [B, Lt, D] (decoder inputs), memory [B, Ls, D] (encoder output), memoryKeep [B, Ls],
    /// selfBias [H, Lt, Lt], targetKeep [B, Lt] (optional, for padded targets) → [B, Lt, D].
    /// </summary>
    public Tensor Forward(Tensor x, Tensor memory, Tensor? memoryKeep, Tensor? selfBias, Tensor? targetKeep = null)
    {
        var n = SelfAttnNorm.Forward(x);
        x = Ops.Add(x, Drop(SelfAttn.Forward(n, n, targetKeep, causal: true, selfBias)));
        n = CrossAttnNorm.Forward(x);
        x = Ops.Add(x, Drop(CrossAttn.Forward(n, memory, memoryKeep)));
        return Ops.Add(x, Drop(Ff.Forward(FfNorm.Forward(x))));
    }

    /// <summary>
    /// <see cref="Forward(Tensor, Tensor, Tensor?, Tensor?, Tensor?)"/> with the cross-attention
    /// keys/values of the memory already projected (layer <paramref name="layer"/> of <paramref name="cache"/>);
    /// the cache's decoded tokens are not used: x holds the whole target.
    /// </summary>
    public Tensor Forward(Tensor x, T5DecoderCache cache, int layer, Tensor? selfBias, Tensor? targetKeep = null)
    {
        var n = SelfAttnNorm.Forward(x);
        x = Ops.Add(x, Drop(SelfAttn.Forward(n, n, targetKeep, causal: true, selfBias)));
        n = CrossAttnNorm.Forward(x);
        x = Ops.Add(x, Drop(CrossAttn.ForwardProjected(n, cache.CrossKeys[layer], cache.CrossValues[layer], cache.MemoryKeep)));
        return Ops.Add(x, Drop(Ff.Forward(FfNorm.Forward(x))));
    }

    /// <summary>
    /// One decoding step: x [R, 1, D] is the newest token (at position cache.Length); its
    /// self-attention keys/values join the cache's and it attends to every earlier token there,
    /// so no causal mask is needed. selfBias [H, 1, Length + 1] is the bias row of its position.
    /// </summary>
    public Tensor Step(Tensor x, T5DecoderCache cache, int layer, Tensor? selfBias)
    {
        var n = SelfAttnNorm.Forward(x);
        var (keys, values) = cache.Append(layer, SelfAttn.K.Forward(n), SelfAttn.V.Forward(n));
        x = Ops.Add(x, Drop(SelfAttn.ForwardProjected(n, keys, values, null, selfBias)));
        n = CrossAttnNorm.Forward(x);
        x = Ops.Add(x, Drop(CrossAttn.ForwardProjected(n, cache.CrossKeys[layer], cache.CrossValues[layer], cache.MemoryKeep)));
        return Ops.Add(x, Drop(Ff.Forward(FfNorm.Forward(x))));
    }

    Tensor Drop(Tensor x) => Training && DropoutP > 0 ? Ops.Dropout(x, DropoutP, dropoutRng) : x;
}
