using System.Numerics.Tensors;
using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors.Nn;

/// <summary>
/// Scaled dot-product attention over heads laid side by side in the last axis, as one tape op:
/// for each head h, P = softmax(scale·Q_h K_hᵀ + bias_h, masked), context_h = P V_h.
/// Heads are read in place with strided GEMMs (no permute copies), masking happens inside the
/// softmax (key padding and causal, no mask tensor), and the backward pass is written out:
/// dP = dC V_hᵀ, dV_h = Pᵀ dC, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ_h = scale·dS K_h, dK_h = scale·dSᵀ Q_h.
/// Both passes run fused per batch item, items spread over threads: an item's score block is
/// multiplied, biased, normalised and applied to V while it is still in cache, instead of each
/// step streaming the whole [B, H, Lq, Lk] tensor through memory on one thread. Every item runs
/// the same single-threaded GEMMs and row operations as a plain loop would, so the results do not
/// depend on the thread count.
/// </summary>
static unsafe class AttentionCore
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
        int b = q.Shape[0], lq = q.Shape[1], lk = k.Shape[1];
        bool biasPerBatch = bias is not null && bias.Size == b * heads * lq * lk;
        if (bias is not null && !biasPerBatch && bias.Size != heads * lq * lk)
            throw new ArgumentException($"attention bias of shape {Tensor.ShapeString(bias.Shape)} is neither [H, Lq, Lk] nor [B, H, Lq, Lk] = [{b}, {heads}, {lq}, {lk}]");

        var p = Tensor.Temp([b, heads, lq, lk]);
        // With dropout the context uses P ⊙ M (M = kept/(1 − p)); the softmax backward needs P itself.
        // M is drawn here, in element order on this thread, so the draws do not depend on the threads.
        Tensor? pDrop = null;
        if (dropout > 0)
        {
            pDrop = Tensor.Temp(p.Shape);
            float keepScale = 1f / (1 - dropout);
            var dd = pDrop.Data;
            for (int i = 0; i < dd.Length; i++) dd[i] = rng!.NextFloat() >= dropout ? keepScale : 0f;
        }
        var ctx = Tensor.Temp([b, lq, heads * dk]);
        var shape = new Shape(b, heads, dk, lq, lk, scale, causal);
        long macs = 2L * b * heads * lq * lk * dk;
        fixed (float* pq = q.Data, pk = k.Data, pv = v.Data, pb = bias is null ? null : bias.Data, pkeep = keyKeep,
               pp = p.Data, pdrop = pDrop is null ? null : pDrop.Data, pc = ctx.Data)
        {
            var job = new ForwardJob
            {
                S = shape, Q = pq, K = pk, V = pv, Bias = pb, BiasPerBatch = biasPerBatch, KeyKeep = pkeep,
                P = pp, PDrop = pdrop, Context = pc,
            };
            KernelThreads.Run(job, b, KernelThreads.For(macs, Gemm.ParallelMinMacs));
        }

        bool needs = Tape.IsRecording && (q.RequiresGrad || k.RequiresGrad || v.RequiresGrad || bias is { RequiresGrad: true });
        if (!needs) return ctx;
        Tape.Record(ctx, () =>
        {
            if (ctx.Grad is null) return;
            // gradient buffers are made here, on one thread; the items then write disjoint parts of them
            var dv = v.RequiresGrad ? v.GradBuffer().Data : null;
            var dq = q.RequiresGrad ? q.GradBuffer().Data : null;
            var dkk = k.RequiresGrad ? k.GradBuffer().Data : null;
            var ds = Tensor.Temp(p.Shape).Data;   // dP, then dS in place
            fixed (float* pq = q.Data, pk = k.Data, pv = v.Data, pp = p.Data, pdrop = pDrop is null ? null : pDrop.Data, pdc = ctx.Grad.Data,
                   pds = ds, pdv = dv, pdq = dq, pdk = dkk)
            {
                var job = new BackwardJob
                {
                    S = shape, Q = pq, K = pk, V = pv, P = pp, PDrop = pdrop, DContext = pdc,
                    DScores = pds, DQ = pdq, DK = pdk, DV = pdv,
                };
                KernelThreads.Run(job, b, KernelThreads.For(2 * macs, Gemm.ParallelMinMacs));
            }
            if (bias is { RequiresGrad: true })
            {
                var gb = bias.GradBuffer().Data;
                if (biasPerBatch) TensorPrimitives.Add(gb.AsSpan(0, ds.Length), ds, gb.AsSpan(0, ds.Length));
                else
                {
                    // Summed over the items in item order for every bias element; threads split the elements.
                    int size = heads * lq * lk;
                    fixed (float* pgb = gb, pds = ds)
                        KernelThreads.Run(new BiasGradJob { Grad = pgb, DScores = pds, Items = b, Size = size }, size,
                            KernelThreads.ForElements((long)b * size));
                }
            }
        });
        return ctx;
    }

    /// <summary>The sizes every item shares; strides in floats.</summary>
    readonly struct Shape(int batch, int heads, int dk, int lq, int lk, float scale, bool causal)
    {
        public readonly int Batch = batch, Heads = heads, Dk = dk, Lq = lq, Lk = lk, Inner = heads * dk;
        public readonly float Scale = scale;
        public readonly bool Causal = causal;
        public long QItem => (long)Lq * Inner;
        public long KItem => (long)Lk * Inner;
        public long Block => (long)Lq * Lk;
        public long PItem => Heads * Block;
    }

    struct ForwardJob : IRangeJob
    {
        public Shape S;
        public float* Q, K, V, Bias, KeyKeep, P, PDrop, Context;
        public bool BiasPerBatch;

        public readonly void Run(int start, int end)
        {
            int lq = S.Lq, lk = S.Lk, dk = S.Dk, inner = S.Inner;
            for (int bi = start; bi < end; bi++)
                for (int h = 0; h < S.Heads; h++)
                {
                    float* q = Q + bi * S.QItem + h * dk, k = K + bi * S.KItem + h * dk, v = V + bi * S.KItem + h * dk;
                    long o0 = bi * S.PItem + h * S.Block;
                    float* p = P + o0;
                    Gemm.SingleThreaded(false, true, lq, lk, dk, S.Scale, q, inner, k, inner, 0f, p, lk);
                    float* bias = Bias is null ? null : Bias + (BiasPerBatch ? o0 : h * S.Block);
                    for (int i = 0; i < lq; i++)
                    {
                        var row = new Span<float>(p + i * lk, lk);
                        if (bias is not null) TensorPrimitives.Add(row, new ReadOnlySpan<float>(bias + i * lk, lk), row);
                        SoftmaxRow(row, KeyKeep is null ? default : new ReadOnlySpan<float>(KeyKeep + (long)bi * lk, lk), S.Causal ? i + 1 : lk);
                    }
                    float* used = p;
                    if (PDrop is not null)
                    {
                        // PDrop holds the mask's multipliers; it becomes P ⊙ M
                        used = PDrop + o0;
                        var block = new Span<float>(used, (int)S.Block);
                        TensorPrimitives.Multiply(new ReadOnlySpan<float>(p, (int)S.Block), block, block);
                    }
                    Gemm.SingleThreaded(false, false, lq, dk, lk, 1f, used, lk, v, inner, 0f, Context + bi * S.QItem + h * dk, inner);
                }
        }
    }

    struct BackwardJob : IRangeJob
    {
        public Shape S;
        public float* Q, K, V, P, PDrop, DContext, DScores, DQ, DK, DV;

        public readonly void Run(int start, int end)
        {
            int lq = S.Lq, lk = S.Lk, dk = S.Dk, inner = S.Inner, block = (int)S.Block;
            for (int bi = start; bi < end; bi++)
                for (int h = 0; h < S.Heads; h++)
                {
                    long qo = bi * S.QItem + h * dk, ko = bi * S.KItem + h * dk, o0 = bi * S.PItem + h * S.Block;
                    float* dc = DContext + qo, p = P + o0, ds = DScores + o0;
                    float* used = PDrop is null ? p : PDrop + o0;
                    if (DV is not null) Gemm.SingleThreaded(true, false, lk, dk, lq, 1f, used, lk, dc, inner, 1f, DV + ko, inner);
                    Gemm.SingleThreaded(false, true, lq, lk, dk, 1f, dc, inner, V + ko, inner, 0f, ds, lk);
                    if (PDrop is not null)
                    {
                        // d(P ⊙ M)/dP = M, recovered as pDrop / P where P > 0 (M is 0 or 1/(1 − p)).
                        for (int i = 0; i < block; i++) ds[i] = p[i] > 0 ? ds[i] * (used[i] / p[i]) : 0f;
                    }
                    for (int i = 0; i < lq; i++)
                    {
                        var pr = new ReadOnlySpan<float>(p + i * lk, lk);
                        var dr = new Span<float>(ds + i * lk, lk);
                        float dot = TensorPrimitives.Dot(pr, dr);
                        TensorPrimitives.Subtract(dr, dot, dr);
                        TensorPrimitives.Multiply(dr, pr, dr);
                    }
                    if (DQ is not null) Gemm.SingleThreaded(false, false, lq, dk, lk, S.Scale, ds, lk, K + ko, inner, 1f, DQ + qo, inner);
                    if (DK is not null) Gemm.SingleThreaded(true, false, lk, dk, lq, S.Scale, ds, lk, Q + qo, inner, 1f, DK + ko, inner);
                }
        }
    }

    /// <summary>Grad[e] += Σ_items DScores[item, e], added in item order whatever the split of e.</summary>
    struct BiasGradJob : IRangeJob
    {
        public float* Grad, DScores;
        public int Items, Size;

        public readonly void Run(int start, int end)
        {
            var g = new Span<float>(Grad + start, end - start);
            for (int bi = 0; bi < Items; bi++)
                TensorPrimitives.Add(g, new ReadOnlySpan<float>(DScores + (long)bi * Size + start, end - start), g);
        }
    }

    /// <summary>In-place softmax of one score row over keys [0, visible) that are not padding (keep 1); a row with none gets zeros.</summary>
    internal static void SoftmaxRow(Span<float> row, ReadOnlySpan<float> keep, int visible)
    {
        if (visible < row.Length) row[visible..].Fill(float.NegativeInfinity);
        if (!keep.IsEmpty)
            for (int j = 0; j < visible; j++)
                if (keep[j] == 0) row[j] = float.NegativeInfinity;
        float max = TensorPrimitives.Max(row);
        if (float.IsNegativeInfinity(max)) { row.Clear(); return; }
        float sum = VectorMath.ExpShiftedInPlace(row, max);
        TensorPrimitives.Multiply(row, 1f / sum, row);
    }
}
