namespace SharpCtr.Tensors.Nn;

/// <summary>
/// Multi-head attention with PyTorch's nn.MultiheadAttention math (batch-first):
/// softmax(Q Kᵀ · scale + bias, masked) V, heads concatenated, then the output projection.
/// Self-attention passes the same tensor as query and memory; cross-attention a different memory.
/// Heads may be narrower or wider than dModel/heads (T5's inner width = heads·headDim).
/// The T5 variant is <c>bias: false, scaled: false</c> with a relative position bias added to the scores.
/// Masks: <c>keyKeep</c> [B, Lk] (1 = real key, 0 = padding) and/or causal (query i sees keys ≤ i).
/// A query whose keys are all masked attends to nothing and gets zeros (PyTorch gives NaN).
/// </summary>
public sealed class MultiHeadAttention : Module
{
    public readonly int DModel, Heads, HeadDim;
    public readonly bool Scaled;
    /// <summary>Dropout on the attention probabilities in training mode (as nn.MultiheadAttention's dropout).</summary>
    public readonly float DropoutP;
    public readonly Linear Q, K, V, O;
    readonly Rng dropoutRng;

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

        var q = Heads4(Q.Forward(query), b, lq);                  // [B, H, Lq, dk]
        var k = Heads4(K.Forward(memory), b, lk);                 // [B, H, Lk, dk]
        var v = Heads4(V.Forward(memory), b, lk);
        if (Scaled) q = Ops.MulScalar(q, 1f / MathF.Sqrt(dk));   // scaling q is cheaper than scaling the scores
        var scores = Ops.MatMul(q, k, transB: true);              // [B, H, Lq, Lk]
        if (positionBias is not null) scores = Ops.Add(scores, positionBias);
        var mask = keyKeep is null && !causal ? null : KeepMask(keyKeep, causal, b, h, lq, lk);
        var attn = Ops.Softmax(scores, mask);
        if (Training && DropoutP > 0) attn = Ops.Dropout(attn, DropoutP, dropoutRng);
        var ctx = Ops.MatMul(attn, v);                            // [B, H, Lq, dk]
        ctx = Ops.Reshape(Ops.Permute(ctx, 0, 2, 1, 3), b, lq, h * dk);
        return O.Forward(ctx);
    }

    Tensor Heads4(Tensor x, int b, int len) => Ops.Permute(Ops.Reshape(x, b, len, Heads, HeadDim), 0, 2, 1, 3);

    /// <summary>The full [B, H, Lq, Lk] keep-mask, so the softmax reads it without broadcasting.</summary>
    static Tensor KeepMask(Tensor? keyKeep, bool causal, int b, int h, int lq, int lk)
    {
        var m = Tensor.Temp([b, h, lq, lk]);
        var md = m.Data;
        for (int bi = 0; bi < b; bi++)
        {
            int o0 = bi * h * lq * lk;
            for (int i = 0; i < lq; i++)
            {
                var row = md.AsSpan(o0 + i * lk, lk);
                if (keyKeep is null) row.Fill(1f);
                else keyKeep.Data.AsSpan(bi * lk, lk).CopyTo(row);
                if (causal) row[(i + 1)..].Clear();
            }
            var first = md.AsSpan(o0, lq * lk);
            for (int hi = 1; hi < h; hi++) first.CopyTo(md.AsSpan(o0 + hi * lq * lk, lq * lk));
        }
        return m;
    }
}
