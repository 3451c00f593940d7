namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Attention probabilities P_i = softmax(scale · Q_i·K_iᵀ) for many small items (batch × heads),
/// fused per item: each item's lq×lk score block is computed and normalised while it is still in
/// L1, instead of writing all scores and reading them back. Masks tile over the items' rows as in
/// <see cref="Softmax"/> (row r of the [items·lq, lk] result uses mask row
/// (r / rowsPerMaskRow) % maskRows). Same bits as Gemm.SgemmStridedBatched followed by
/// Softmax.Forward. Backward is theirs: Softmax.Backward, then two batched GEMMs.
/// </summary>
public static unsafe class AttentionScores
{
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, int items, int lq, int lk, int dim, float scale,
        Span<float> probs, ReadOnlySpan<bool> mask = default, int rowsPerMaskRow = 1)
    {
        const string op = "AttentionScores.Forward";
        Check.Vector(op, "q", q.Length, (long)items * lq * dim);
        Check.Vector(op, "k", k.Length, (long)items * lk * dim);
        Check.Vector(op, "probs", probs.Length, (long)items * lq * lk);
        Softmax.CheckMask(op, mask.Length, items * lq, lk, rowsPerMaskRow);
        if (items == 0 || lq == 0 || lk == 0) return;
        fixed (float* pq = q, pk = k, pp = probs)
        fixed (bool* pm = mask)
        {
            var job = new Job
            {
                Q = pq, K = pk, P = pp, Lq = lq, Lk = lk, Dim = dim, Scale = scale,
                Softmax = new Softmax.ForwardJob { X = pp, Y = pp, Mask = mask.IsEmpty ? null : pm, MaskRows = mask.Length / lk, Cols = lk, RowsPerMaskRow = rowsPerMaskRow },
            };
            long macs = (long)items * lq * lk * dim;
            KernelThreads.Run(job, items, KernelThreads.For(macs, Gemm.ParallelMinMacs));
        }
    }

    private struct Job : IRangeJob
    {
        public float* Q, K, P;
        public int Lq, Lk, Dim;
        public float Scale;
        public Softmax.ForwardJob Softmax;

        public readonly void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                Gemm.SingleThreaded(false, true, Lq, Lk, Dim, Scale, Q + (long)i * Lq * Dim, Dim, K + (long)i * Lk * Dim, Dim,
                    0f, P + (long)i * Lq * Lk, Lk);
                Softmax.Run(i * Lq, (i + 1) * Lq);
            }
        }
    }
}
