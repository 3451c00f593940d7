using System.Numerics.Tensors;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Layer norm and RMS norm over the last dimension of a [rows, cols] matrix. Forward saves the
/// per-row statistics (mean and 1/σ, or 1/rms) that backward needs. gamma/beta may be empty
/// (no affine part). Backward adds into dx, dgamma and dbeta (each may be empty).
/// </summary>
public static unsafe class Normalization
{
    public static void LayerNormForward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        int rows, int cols, float eps, Span<float> y, Span<float> mean, Span<float> rstd)
    {
        const string op = "Normalization.LayerNormForward";
        Check.Matrix(op, "x", x.Length, rows, cols);
        Check.Matrix(op, "y", y.Length, rows, cols);
        Check.OptionalVector(op, "gamma", gamma.Length, cols);
        Check.OptionalVector(op, "beta", beta.Length, cols);
        Check.Vector(op, "mean", mean.Length, rows);
        Check.Vector(op, "rstd", rstd.Length, rows);
        fixed (float* px = x, pg = gamma, pb = beta, py = y, pm = mean, pr = rstd)
        {
            var job = new ForwardJob { X = px, Gamma = gamma.IsEmpty ? null : pg, Beta = beta.IsEmpty ? null : pb, Y = py, Mean = pm, Rstd = pr, Cols = cols, Eps = eps, Rms = false };
            KernelThreads.Run(job, rows, KernelThreads.ForElements((long)rows * cols));
        }
    }

    public static void RmsNormForward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, int rows, int cols, float eps,
        Span<float> y, Span<float> rstd)
    {
        const string op = "Normalization.RmsNormForward";
        Check.Matrix(op, "x", x.Length, rows, cols);
        Check.Matrix(op, "y", y.Length, rows, cols);
        Check.OptionalVector(op, "gamma", gamma.Length, cols);
        Check.Vector(op, "rstd", rstd.Length, rows);
        fixed (float* px = x, pg = gamma, py = y, pr = rstd)
        {
            var job = new ForwardJob { X = px, Gamma = gamma.IsEmpty ? null : pg, Y = py, Rstd = pr, Cols = cols, Eps = eps, Rms = true };
            KernelThreads.Run(job, rows, KernelThreads.ForElements((long)rows * cols));
        }
    }

    /// <summary>With x̂ = (x−μ)·rstd and g = dy·γ: dx += rstd·(g − mean(g) − x̂·mean(g·x̂)),
    /// dγ += Σ dy·x̂, dβ += Σ dy.</summary>
    public static void LayerNormBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> mean,
        ReadOnlySpan<float> rstd, ReadOnlySpan<float> dy, int rows, int cols, Span<float> dx, Span<float> dgamma, Span<float> dbeta)
    {
        const string op = "Normalization.LayerNormBackward";
        Check.Vector(op, "mean", mean.Length, rows);
        fixed (float* pm = mean)
            Backward(op, x, gamma, pm, rstd, dy, rows, cols, dx, dgamma, dbeta);
    }

    /// <summary>With x̂ = x·rstd and g = dy·γ: dx += rstd·(g − x̂·mean(g·x̂)), dγ += Σ dy·x̂.</summary>
    public static void RmsNormBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> rstd,
        ReadOnlySpan<float> dy, int rows, int cols, Span<float> dx, Span<float> dgamma) =>
        Backward("Normalization.RmsNormBackward", x, gamma, null, rstd, dy, rows, cols, dx, dgamma, default);

    private static void Backward(string op, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, float* mean,
        ReadOnlySpan<float> rstd, ReadOnlySpan<float> dy, int rows, int cols, Span<float> dx, Span<float> dgamma, Span<float> dbeta)
    {
        Check.Matrix(op, "x", x.Length, rows, cols);
        Check.Matrix(op, "dy", dy.Length, rows, cols);
        Check.OptionalVector(op, "gamma", gamma.Length, cols);
        Check.Vector(op, "rstd", rstd.Length, rows);
        if (!dx.IsEmpty) Check.Matrix(op, "dx", dx.Length, rows, cols);
        Check.OptionalVector(op, "dgamma", dgamma.Length, cols);
        Check.OptionalVector(op, "dbeta", dbeta.Length, cols);
        int chunks = RowChunks.Count(rows);
        bool wantParams = !dgamma.IsEmpty || !dbeta.IsEmpty;
        // Partial rows hold [dgamma | dbeta] per chunk.
        float[]? partials = wantParams ? RowChunks.RentPartials(chunks, 2 * cols) : null;
        fixed (float* px = x, pg = gamma, pr = rstd, pdy = dy, pdx = dx, pp = partials)
        {
            var job = new BackwardJob
            {
                X = px, Gamma = gamma.IsEmpty ? null : pg, Mean = mean, Rstd = pr, Dy = pdy, Dx = dx.IsEmpty ? null : pdx,
                Partials = pp, Rows = rows, Cols = cols,
            };
            KernelThreads.Run(job, chunks, KernelThreads.ForElements((long)rows * cols));
        }
        if (partials == null) return;
        for (int ch = 0; ch < chunks; ch++)
        {
            var p = partials.AsSpan(ch * 2 * cols, 2 * cols);
            if (!dgamma.IsEmpty) TensorPrimitives.Add(dgamma, p[..cols], dgamma);
            if (!dbeta.IsEmpty) TensorPrimitives.Add(dbeta, p[cols..], dbeta);
        }
        System.Buffers.ArrayPool<float>.Shared.Return(partials);
    }

    private struct ForwardJob : IRangeJob
    {
        public float* X, Gamma, Beta, Y, Mean, Rstd;
        public int Cols;
        public float Eps;
        public bool Rms;

        public readonly void Run(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                var x = new ReadOnlySpan<float>(X + (long)r * Cols, Cols);
                var y = new Span<float>(Y + (long)r * Cols, Cols);
                float mu = 0f;
                if (!Rms)
                {
                    mu = TensorPrimitives.Sum(x) / Cols;
                    Mean[r] = mu;
                }
                // Two passes (centre, then square) so a large mean does not cancel the variance.
                TensorPrimitives.Subtract(x, mu, y);
                float var = TensorPrimitives.SumOfSquares(y) / Cols;
                float rs = 1f / MathF.Sqrt(var + Eps);
                Rstd[r] = rs;
                TensorPrimitives.Multiply(y, rs, y);
                if (Gamma != null) TensorPrimitives.Multiply(y, new ReadOnlySpan<float>(Gamma, Cols), y);
                if (Beta != null) TensorPrimitives.Add(y, new ReadOnlySpan<float>(Beta, Cols), y);
            }
        }
    }

    private struct BackwardJob : IRangeJob
    {
        public float* X, Gamma, Mean, Rstd, Dy, Dx, Partials;
        public int Rows, Cols;

        public readonly void Run(int chunkStart, int chunkEnd)
        {
            for (int ch = chunkStart; ch < chunkEnd; ch++)
            {
                float* dg = Partials == null ? null : Partials + (long)ch * 2 * Cols;
                float* db = dg == null ? null : dg + Cols;
                int rEnd = Math.Min(Rows, (ch + 1) * RowChunks.Size);
                for (int r = ch * RowChunks.Size; r < rEnd; r++)
                {
                    float* x = X + (long)r * Cols, dy = Dy + (long)r * Cols;
                    float mu = Mean == null ? 0f : Mean[r], rs = Rstd[r];
                    float sumG = 0f, sumGx = 0f;
                    for (int c = 0; c < Cols; c++)
                    {
                        float xh = (x[c] - mu) * rs;
                        float g = Gamma == null ? dy[c] : dy[c] * Gamma[c];
                        sumG += g;
                        sumGx += g * xh;
                        if (dg != null) { dg[c] += dy[c] * xh; db[c] += dy[c]; }
                    }
                    if (Dx == null) continue;
                    float meanG = Mean == null ? 0f : sumG / Cols, meanGx = sumGx / Cols;
                    float* dx = Dx + (long)r * Cols;
                    for (int c = 0; c < Cols; c++)
                    {
                        float xh = (x[c] - mu) * rs;
                        float g = Gamma == null ? dy[c] : dy[c] * Gamma[c];
                        dx[c] += rs * (g - meanG - xh * meanGx);
                    }
                }
            }
        }
    }
}
