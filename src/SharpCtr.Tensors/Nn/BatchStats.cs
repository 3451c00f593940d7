using System.Numerics.Tensors;

namespace SharpCtr.Tensors.Nn;

/// <summary>
/// Per-feature statistics over the rows of an [N, D] view, shared by BatchNorm and Dice:
/// the forward statistics, the running-average update, and the backward pass through
/// n = (x − mean)·invStd when mean and variance are themselves functions of the batch.
/// </summary>
static class BatchStats
{
    /// <summary>
    /// The statistics a forward pass normalises with, as a pooled [3, d] tensor
    /// (mean | variance | invStd): the batch's (also updating the running averages) in training,
    /// the running averages in inference.
    /// </summary>
    public static Tensor ForForward(float[] x, int n, int d, bool training, Tensor runningMean, Tensor runningVar, float eps, float momentum)
    {
        var stats = Tensor.Temp([3, d]);
        var mean = stats.Data.AsSpan(0, d); var variance = stats.Data.AsSpan(d, d); var invStd = stats.Data.AsSpan(2 * d, d);
        if (training)
        {
            Compute(x, n, d, mean, variance, invStd, eps);
            UpdateRunning(runningMean, runningVar, mean, variance, n, momentum);
        }
        else
        {
            runningMean.Span.CopyTo(mean);
            runningVar.Span.CopyTo(variance);
            for (int j = 0; j < d; j++) invStd[j] = 1f / MathF.Sqrt(runningVar.Data[j] + eps);
        }
        return stats;
    }

    /// <summary>
    /// Batch mean and biased variance per column, and invStd = 1/sqrt(var + eps): two passes
    /// (mean, then squared deviations) split over the cores by fixed chunks of rows whose partial
    /// sums are added in chunk order, so the bits do not depend on the thread count.
    /// </summary>
    public static unsafe void Compute(float[] x, int n, int d, Span<float> mean, Span<float> variance, Span<float> invStd, float eps)
    {
        int chunks = (n + ColumnSumJob.ChunkRows - 1) / ColumnSumJob.ChunkRows;
        var partials = System.Buffers.ArrayPool<float>.Shared.Rent(Math.Max(1, chunks * d));
        int workers = Kernels.KernelThreads.ForElements((long)n * d);
        float invN = 1f / Math.Max(1, n);
        fixed (float* px = x, pp = partials, pm = mean)
        {
            var job = new ColumnSumJob { X = px, Partials = pp, Mean = null, N = n, D = d };
            Kernels.KernelThreads.Run(job, chunks, workers);
            SumPartials(partials, chunks, d, mean);
            TensorPrimitives.Multiply(mean, invN, mean);
            job.Mean = pm;   // second pass: Σ (x − mean)²
            Kernels.KernelThreads.Run(job, chunks, workers);
            SumPartials(partials, chunks, d, variance);
        }
        System.Buffers.ArrayPool<float>.Shared.Return(partials);
        for (int j = 0; j < d; j++)
        {
            variance[j] *= invN;
            invStd[j] = 1f / MathF.Sqrt(variance[j] + eps);
        }
    }

    static void SumPartials(float[] partials, int chunks, int d, Span<float> total)
    {
        total.Clear();
        for (int ch = 0; ch < chunks; ch++) TensorPrimitives.Add(total, partials.AsSpan(ch * d, d), total);
    }

    /// <summary>Per chunk of rows: Σ x (Mean null) or Σ (x − mean)² per column into its partial row.</summary>
    unsafe struct ColumnSumJob : Kernels.IRangeJob
    {
        public const int ChunkRows = 128;
        public float* X, Partials, Mean;
        public int N, D;

        public readonly void Run(int chunkStart, int chunkEnd)
        {
            for (int ch = chunkStart; ch < chunkEnd; ch++)
            {
                float* acc = Partials + (long)ch * D;
                new Span<float>(acc, D).Clear();
                int rEnd = Math.Min(N, (ch + 1) * ChunkRows);
                for (int i = ch * ChunkRows; i < rEnd; i++)
                {
                    float* row = X + (long)i * D;
                    for (int j = 0; j < D; j += 16)
                    {
                        int c = Math.Min(16, D - j);
                        var v = Kernels.VectorMath.LoadPartial(row + j, c);
                        if (Mean != null) { v -= Kernels.VectorMath.LoadPartial(Mean + j, c); v *= v; }
                        Kernels.VectorMath.StorePartial(Kernels.VectorMath.LoadPartial(acc + j, c) + v, acc + j, c);
                    }
                }
            }
        }
    }

    /// <summary>running ← (1 − momentum)·running + momentum·batch, with the unbiased batch variance (as PyTorch).</summary>
    public static void UpdateRunning(Tensor runningMean, Tensor runningVar, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, int n, float momentum)
    {
        float unbias = n > 1 ? (float)n / (n - 1) : 1f;
        var rm = runningMean.Data; var rv = runningVar.Data;
        for (int j = 0; j < mean.Length; j++)
        {
            rm[j] = (1 - momentum) * rm[j] + momentum * mean[j];
            if (n > 1) rv[j] = (1 - momentum) * rv[j] + momentum * variance[j] * unbias;
        }
    }

    /// <summary>
    /// gx += invStd·(gn − mean(gn) − n·mean(gn·n)) per column: the gradient through batch
    /// normalisation given gn = dL/dn and the normalised values n.
    /// </summary>
    public static void NormalizeBackward(float[] gn, float[] nrm, int n, int d, ReadOnlySpan<float> invStd, float[] gx,
        Span<float> scratchA, Span<float> scratchB)
    {
        scratchA.Clear();
        scratchB.Clear();
        for (int i = 0; i < n; i++)
        {
            var g = gn.AsSpan(i * d, d);
            TensorPrimitives.Add(scratchA, g, scratchA);
            TensorPrimitives.MultiplyAdd(g, nrm.AsSpan(i * d, d), scratchB, scratchB);
        }
        float invN = 1f / Math.Max(1, n);
        TensorPrimitives.Multiply(scratchA, invN, scratchA);
        TensorPrimitives.Multiply(scratchB, -invN, scratchB);   // −mean(gn·n)
        Span<float> t = d <= 1024 ? stackalloc float[d] : new float[d];
        for (int i = 0; i < n; i++)
        {
            var o = gx.AsSpan(i * d, d);
            // t = (g − meanG − n·meanGN)·invStd, added to gx
            TensorPrimitives.Subtract(gn.AsSpan(i * d, d), scratchA, t);
            TensorPrimitives.MultiplyAdd(nrm.AsSpan(i * d, d), scratchB, t, t);
            TensorPrimitives.MultiplyAdd(t, invStd, o, o);
        }
    }
}
