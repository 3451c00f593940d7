namespace SharpCtr.Tensors.Nn;

/// <summary>
/// Multi-head attention with PyTorch's nn.MultiheadAttention math (batch-first):
/// softmax(Q Kᵀ · scale + bias, masked) V, heads concatenated, then the output projection.
/// Self-attention passes the same tensor as query and memory; cross-attention a different memory.
/// Heads may be narrower or wider than dModel/heads (T5's inner width = heads·headDim).
/// The T5 variant is <c>bias: false, scaled: false</c> with a relative position bias added to the scores.
/// Masks: <c>keyKeep</c> [B, Lk] (1 = real key, 0 = padding) and/or causal (query i sees keys ≤ i).
/// A query whose keys are all masked attends to nothing: its context is zero (PyTorch gives NaN).
/// </summary>
public sealed class MultiHeadAttention : Module
{
    public readonly int DModel, Heads, HeadDim;
    public readonly bool Scaled;
    /// <summary>Dropout on the attention probabilities in training mode (as nn.MultiheadAttention's dropout).</summary>
    public readonly float DropoutP;
    public readonly Linear Q, K, V, O;
    readonly Rng dropoutRng;
    protected override IEnumerable<(string, Rng)> LocalRngs() { yield return ("dropout", dropoutRng); }

    public MultiHeadAttention(int dModel, int heads, Rng rng, int headDim = 0, bool bias = true, bool scaled = true, float dropout = 0f)
    {
        if (headDim == 0)
        {
            if (dModel % heads != 0) throw new ArgumentException($"dModel {dModel} is not divisible by {heads} heads; pass headDim");
            headDim = dModel / heads;
        }
        DModel = dModel;
        Heads = heads;
        HeadDim = headDim;
        Scaled = scaled;
        int inner = heads * headDim;
        Q = new Linear(dModel, inner, rng, bias);
        K = new Linear(dModel, inner, rng, bias);
        V = new Linear(dModel, inner, rng, bias);
        O = new Linear(inner, dModel, rng, bias);
        DropoutP = dropout;
        dropoutRng = rng.Fork();
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("q", Q);
        yield return ("k", K);
        yield return ("v", V);
        yield return ("o", O);
    }

    /// <summary>
    /// query [B, Lq, D], memory [B, Lk, D] → [B, Lq, D]. <paramref name="positionBias"/> [H, Lq, Lk]
    /// (or [B, H, Lq, Lk]) is added to the scores before masking.
    /// </summary>
    public Tensor Forward(Tensor query, Tensor memory, Tensor? keyKeep = null, bool causal = false, Tensor? positionBias = null)
    {
        if (query.Rank != 3 || memory.Rank != 3 || query.Shape[0] != memory.Shape[0])
            throw new ArgumentException($"attention needs query [B, Lq, D] and memory [B, Lk, D], got {Tensor.ShapeString(query.Shape)} and {Tensor.ShapeString(memory.Shape)}");
        int b = query.Shape[0], lq = query.Shape[1], lk = memory.Shape[1], h = Heads, dk = HeadDim;
        if (keyKeep is not null && (keyKeep.Size != b * lk))
            throw new ArgumentException($"key mask of shape {Tensor.ShapeString(keyKeep.Shape)} does not match [B, Lk] = [{b}, {lk}]");
        if (causal && lq != lk) throw new ArgumentException($"causal attention needs as many queries as keys, got {lq} and {lk}");

        var ctx = AttentionCore.Attend(Q.Forward(query), K.Forward(memory), V.Forward(memory), h, dk,
            Scaled ? 1f / MathF.Sqrt(dk) : 1f, positionBias, keyKeep?.Data, causal,
            Training ? DropoutP : 0f, dropoutRng);
        return O.Forward(ctx);
    }

    /// <summary>
    /// Attention over keys and values already projected by <see cref="K"/> and <see cref="V"/>
    /// ([B, Lk, H·headDim]): the same result as <see cref="Forward"/> on the memory they came from,
    /// without projecting it again — a decoder's cache (memory projected once per sequence, earlier
    /// tokens' keys kept between steps). No causal mask: a cache holds only keys the query may see.
    /// </summary>
    public Tensor ForwardProjected(Tensor query, Tensor keys, Tensor values, Tensor? keyKeep = null, Tensor? positionBias = null)
    {
        int inner = Heads * HeadDim;
        if (query.Rank != 3 || keys.Rank != 3 || values.Rank != 3 || keys.Shape[0] != query.Shape[0] || keys.Shape[2] != inner
            || !keys.Shape.AsSpan().SequenceEqual(values.Shape))
            throw new ArgumentException($"projected attention needs query [B, Lq, D] and keys = values [B, Lk, {inner}], got {Tensor.ShapeString(query.Shape)}, {Tensor.ShapeString(keys.Shape)} and {Tensor.ShapeString(values.Shape)}");
        int b = query.Shape[0], lk = keys.Shape[1];
        if (keyKeep is not null && keyKeep.Size != b * lk)
            throw new ArgumentException($"key mask of shape {Tensor.ShapeString(keyKeep.Shape)} does not match [B, Lk] = [{b}, {lk}]");
        var ctx = AttentionCore.Attend(Q.Forward(query), keys, values, Heads, HeadDim,
            Scaled ? 1f / MathF.Sqrt(HeadDim) : 1f, positionBias, keyKeep?.Data, causal: false,
            Training ? DropoutP : 0f, dropoutRng);
        return O.Forward(ctx);
    }
}
