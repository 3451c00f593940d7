using System.Numerics.Tensors;
using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors.Nn;

/// <summary>
/// Scaled dot-product attention over heads laid side by side in the last axis, as one tape op:
/// for each head h, P = softmax(scale·Q_h K_hᵀ + bias_h, masked), context_h = P V_h.
/// Heads are read in place with strided batched GEMMs (no permute copies), masking happens inside
/// the softmax (key padding and causal, no mask tensor), and the backward pass is written out:
/// dP = dC V_hᵀ, dV_h = Pᵀ dC, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ_h = scale·dS K_h, dK_h = scale·dSᵀ Q_h.
/// </summary>
static class AttentionCore
{
    /// <param name="q">[B, Lq, H·dk]</param>
    /// <param name="k">[B, Lk, H·dk]</param>
    /// <param name="v">[B, Lk, H·dk]</param>
    /// <param name="bias">[H, Lq, Lk] or [B, H, Lq, Lk], added to the scaled scores</param>
    /// <param name="keyKeep">[B, Lk] data, 1 = attend, 0 = padding</param>
    /// <returns>context [B, Lq, H·dk]</returns>
    public static Tensor Attend(Tensor q, Tensor k, Tensor v, int heads, int dk, float scale, Tensor? bias, float[]? keyKeep, bool causal,
        float dropout, Rng? rng)
    {
        int b = q.Shape[0], lq = q.Shape[1], lk = k.Shape[1], inner = heads * dk;
        long qStride = (long)lq * inner, kStride = (long)lk * inner, hStride = (long)lq * lk, bStride = heads * hStride;
        bool biasPerBatch = bias is not null && bias.Size == b * heads * lq * lk;
        if (bias is not null && !biasPerBatch && bias.Size != heads * lq * lk)
            throw new ArgumentException($"attention bias of shape {Tensor.ShapeString(bias.Shape)} is neither [H, Lq, Lk] nor [B, H, Lq, Lk] = [{b}, {heads}, {lq}, {lk}]");

        var p = Tensor.Temp([b, heads, lq, lk]);
        var pd = p.Data;
        for (int h = 0; h < heads; h++)
            Gemm.SgemmStridedBatched(false, true, lq, lk, dk, scale, q.Data.AsSpan(h * dk), inner, qStride,
                k.Data.AsSpan(h * dk), inner, kStride, 0f, pd.AsSpan((int)(h * hStride)), lk, bStride, b);
        for (int bi = 0; bi < b; bi++)
            for (int h = 0; h < heads; h++)
            {
                int o0 = (int)(bi * bStride + h * hStride);
                if (bias is not null)
                {
                    int bo = biasPerBatch ? o0 : (int)(h * hStride);
                    TensorPrimitives.Add(pd.AsSpan(o0, lq * lk), bias.Data.AsSpan(bo, lq * lk), pd.AsSpan(o0, lq * lk));
                }
                for (int i = 0; i < lq; i++) SoftmaxRow(pd.AsSpan(o0 + i * lk, lk), keyKeep, bi * lk, causal ? i + 1 : lk);
            }
        // With dropout the context uses P ⊙ M (M = kept/(1 − p)); the softmax backward needs P itself.
        Tensor? pDrop = null;
        if (dropout > 0)
        {
            pDrop = Tensor.Temp(p.Shape);
            float keepScale = 1f / (1 - dropout);
            var dd = pDrop.Data;
            for (int i = 0; i < dd.Length; i++) dd[i] = rng!.NextFloat() >= dropout ? pd[i] * keepScale : 0f;
        }
        var used = pDrop ?? p;
        var ctx = Tensor.Temp([b, lq, inner]);
        for (int h = 0; h < heads; h++)
            Gemm.SgemmStridedBatched(false, false, lq, dk, lk, 1f, used.Data.AsSpan((int)(h * hStride)), lk, bStride,
                v.Data.AsSpan(h * dk), inner, kStride, 0f, ctx.Data.AsSpan(h * dk), inner, qStride, b);

        bool needs = Tape.IsRecording && (q.RequiresGrad || k.RequiresGrad || v.RequiresGrad || bias is { RequiresGrad: true });
        if (!needs) return ctx;
        Tape.Record(ctx, () =>
        {
            if (ctx.Grad is null) return;
            var dc = ctx.Grad.Data;
            if (v.RequiresGrad)
            {
                var dv = v.GradBuffer().Data;
                for (int h = 0; h < heads; h++)
                    Gemm.SgemmStridedBatched(true, false, lk, dk, lq, 1f, used.Data.AsSpan((int)(h * hStride)), lk, bStride,
                        dc.AsSpan(h * dk), inner, qStride, 1f, dv.AsSpan(h * dk), inner, kStride, b);
            }
            var ds = Tensor.Temp(p.Shape).Data;   // dP, then dS in place
            for (int h = 0; h < heads; h++)
                Gemm.SgemmStridedBatched(false, true, lq, lk, dk, 1f, dc.AsSpan(h * dk), inner, qStride,
                    v.Data.AsSpan(h * dk), inner, kStride, 0f, ds.AsSpan((int)(h * hStride)), lk, bStride, b);
            if (pDrop is not null)
            {
                // d(P ⊙ M)/dP = M, recovered as pDrop / P where P > 0 (M is 0 or 1/(1 − p)).
                var dd = pDrop.Data;
                for (int i = 0; i < ds.Length; i++) ds[i] = pd[i] > 0 ? ds[i] * (dd[i] / pd[i]) : 0f;
            }
            for (int r = 0, rows = b * heads * lq; r < rows; r++)
            {
                var pr = pd.AsSpan(r * lk, lk);
                var dr = ds.AsSpan(r * lk, lk);
                float dot = TensorPrimitives.Dot(pr, dr);
                TensorPrimitives.Subtract(dr, dot, dr);
                TensorPrimitives.Multiply(dr, pr, dr);
            }
            if (bias is { RequiresGrad: true })
            {
                var gb = bias.GradBuffer().Data;
                if (biasPerBatch) TensorPrimitives.Add(gb.AsSpan(0, ds.Length), ds, gb.AsSpan(0, ds.Length));
                else
                    for (int bi = 0; bi < b; bi++)
                    {
                        var src = ds.AsSpan((int)(bi * bStride), (int)bStride);
                        TensorPrimitives.Add(gb.AsSpan(0, (int)bStride), src, gb.AsSpan(0, (int)bStride));
                    }
            }
            if (q.RequiresGrad)
            {
                var dq = q.GradBuffer().Data;
                for (int h = 0; h < heads; h++)
                    Gemm.SgemmStridedBatched(false, false, lq, dk, lk, scale, ds.AsSpan((int)(h * hStride)), lk, bStride,
                        k.Data.AsSpan(h * dk), inner, kStride, 1f, dq.AsSpan(h * dk), inner, qStride, b);
            }
            if (k.RequiresGrad)
            {
                var dkk = k.GradBuffer().Data;
                for (int h = 0; h < heads; h++)
                    Gemm.SgemmStridedBatched(true, false, lk, dk, lq, scale, ds.AsSpan((int)(h * hStride)), lk, bStride,
                        q.Data.AsSpan(h * dk), inner, qStride, 1f, dkk.AsSpan(h * dk), inner, kStride, b);
            }
        });
        return ctx;
    }

    /// <summary>In-place softmax of one score row over keys [0, visible) that are not padding; a row with none gets zeros.</summary>
    static void SoftmaxRow(Span<float> row, float[]? keyKeep, int keepOffset, int visible)
    {
        if (visible < row.Length) row[visible..].Fill(float.NegativeInfinity);
        if (keyKeep is not null)
            for (int j = 0; j < visible; j++)
                if (keyKeep[keepOffset + j] == 0) row[j] = float.NegativeInfinity;
        float max = TensorPrimitives.Max(row);
        if (float.IsNegativeInfinity(max)) { row.Clear(); return; }
        TensorPrimitives.Subtract(row, max, row);
        TensorPrimitives.Exp(row, row);
        float sum = TensorPrimitives.Sum(row);
        TensorPrimitives.Multiply(row, 1f / sum, row);
    }
}
