using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors.Nn;

/// <summary>
/// Dice's fused passes in 16-wide vectors, split over the cores by rows. The forward computes
/// p = sigmoid(n) and y together (n = (x − mean)·invStd is recomputed in backward rather than
/// stored: two flops instead of a [rows, d] write and two reads). The backward's column sums
/// (dα and, with batch statistics, Σdn and Σdn·n) are taken over fixed chunks of rows whose
/// partials are added in chunk order, so the bits do not depend on the thread count.
/// </summary>
static unsafe class DiceKernel
{
    const int ChunkRows = 128;

    /// <param name="stats">[mean | variance | invStd], each <paramref name="d"/> wide.</param>
    /// <param name="p">the gate sigmoid(n), kept for backward; null when nothing is recorded.</param>
    public static void Forward(float[] x, float[] stats, float[] alpha, int n, int d, float[]? p, float[] y)
    {
        fixed (float* px = x, ps = stats, pa = alpha, pp = p, py = y)
        {
            var job = new ForwardJob { X = px, Mean = ps, Inv = ps + 2 * d, Alpha = pa, P = pp, Y = py, D = d };
            KernelThreads.Run(job, n, KernelThreads.ForElements((long)n * d));
        }
    }

    /// <summary>
    /// gx (+)= dL/dx (written when <paramref name="overwriteGx"/>, else added; null: not wanted) and
    /// alphaGrad += dL/dα. With batch statistics the gradient also flows through mean and variance:
    /// dx += invStd·(dn − mean(dn) − n·mean(dn·n)).
    /// </summary>
    public static void Backward(float[] x, float[] p, float[] gy, float[] alpha, float[] stats, int n, int d,
        bool batchStats, float[]? gx, bool overwriteGx, float[] alphaGrad)
    {
        int chunks = (n + ChunkRows - 1) / ChunkRows;
        int width = 3 * d;                                     // per chunk: dα | Σdn | Σdn·n
        var partials = ArrayPool<float>.Shared.Rent(Math.Max(1, chunks * width));
        Array.Clear(partials, 0, chunks * width);
        var totals = new float[width];
        fixed (float* px = x, pp = p, pg = gy, pa = alpha, ps = stats, pgx = gx, ppart = partials, ptot = totals)
        {
            var job = new BackwardJob
            {
                X = px, P = pp, Gy = pg, Alpha = pa, Mean = ps, Inv = ps + 2 * d, Gx = pgx, Partials = ppart, Totals = ptot,
                N = n, D = d, BatchStats = batchStats, Overwrite = overwriteGx, SecondPass = false,
            };
            int workers = KernelThreads.ForElements((long)n * d);
            KernelThreads.Run(job, chunks, workers);
            for (int ch = 0; ch < chunks; ch++)
                for (int j = 0; j < width; j++) totals[j] += partials[ch * width + j];
            for (int j = 0; j < d; j++) alphaGrad[j] += totals[j];
            if (gx is not null && batchStats)
            {
                job.SecondPass = true;
                KernelThreads.Run(job, n, workers);
            }
        }
        ArrayPool<float>.Shared.Return(partials);
    }

    struct ForwardJob : IRangeJob
    {
        public float* X, Mean, Inv, Alpha, P, Y;
        public int D;

        public readonly void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                long o = (long)i * D;
                for (int j = 0; j < D; j += 16)
                {
                    int c = Math.Min(16, D - j);
                    var xv = VectorMath.LoadPartial(X + o + j, c);
                    var sg = VectorMath.Sigmoid((xv - VectorMath.LoadPartial(Mean + j, c)) * VectorMath.LoadPartial(Inv + j, c));
                    var av = VectorMath.LoadPartial(Alpha + j, c);
                    if (P != null) VectorMath.StorePartial(sg, P + o + j, c);
                    VectorMath.StorePartial(xv * (av + sg * (VectorMath.One - av)), Y + o + j, c);
                }
            }
        }
    }

    struct BackwardJob : IRangeJob
    {
        public float* X, P, Gy, Alpha, Mean, Inv, Gx, Partials, Totals;
        public int N, D;
        public bool BatchStats, Overwrite, SecondPass;

        public readonly void Run(int start, int end)
        {
            if (SecondPass) ThroughStatistics(start, end);
            else Chunks(start, end);
        }

        // The loops load their terms themselves: a helper that returned them as a tuple of vectors
        // was not inlined, and without AVX-512 every row then went through calls (design note 41).

        /// <summary>dα, the direct path (and, with running statistics, the path through n) and the chunk sums.</summary>
        readonly void Chunks(int chunkStart, int chunkEnd)
        {
            var one = VectorMath.One;
            for (int ch = chunkStart; ch < chunkEnd; ch++)
            {
                float* ga = Partials + (long)ch * 3 * D, sumDn = ga + D, sumDnN = ga + 2 * D;
                int rEnd = Math.Min(N, (ch + 1) * ChunkRows);
                for (int i = ch * ChunkRows; i < rEnd; i++)
                {
                    long o = (long)i * D;
                    for (int j = 0; j < D; j += 16)
                    {
                        int c = Math.Min(16, D - j);
                        var g = VectorMath.LoadPartial(Gy + o + j, c);
                        var xv = VectorMath.LoadPartial(X + o + j, c);
                        var gxv = g * xv;
                        var pv = VectorMath.LoadPartial(P + o + j, c);
                        var av = VectorMath.LoadPartial(Alpha + j, c);
                        // dα += dy·x·(1 − p)
                        VectorMath.StorePartial(VectorMath.LoadPartial(ga + j, c) + gxv * (one - pv), ga + j, c);
                        if (Gx == null) continue;
                        var dn = Dn(gxv, pv, av);
                        if (BatchStats)
                        {
                            VectorMath.StorePartial(VectorMath.LoadPartial(sumDn + j, c) + dn, sumDn + j, c);
                            var nv = (xv - VectorMath.LoadPartial(Mean + j, c)) * VectorMath.LoadPartial(Inv + j, c);
                            VectorMath.StorePartial(VectorMath.LoadPartial(sumDnN + j, c) + dn * nv, sumDnN + j, c);
                            continue;   // dx is written in the second pass, once the sums are known
                        }
                        // direct path plus dn·invStd
                        var direct = Direct(g, pv, av);
                        var prior = Overwrite ? Vector512<float>.Zero : VectorMath.LoadPartial(Gx + o + j, c);
                        VectorMath.StorePartial(prior + direct + dn * VectorMath.LoadPartial(Inv + j, c), Gx + o + j, c);
                    }
                }
            }
        }

        /// <summary>Through p: dn = dy·x·(1 − α)·p·(1 − p).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector512<float> Dn(Vector512<float> gx, Vector512<float> p, Vector512<float> alpha) =>
            gx * (VectorMath.One - alpha) * p * (VectorMath.One - p);

        /// <summary>The direct path: dy·(α + p·(1 − α)).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector512<float> Direct(Vector512<float> g, Vector512<float> p, Vector512<float> alpha) =>
            g * (alpha + p * (VectorMath.One - alpha));

        /// <summary>dx (+)= dy·(α + p·(1 − α)) + invStd·(dn − mean(dn) − n·mean(dn·n)), per row.</summary>
        readonly void ThroughStatistics(int start, int end)
        {
            var invN = Vector512.Create(1f / Math.Max(1, N));
            float* sumDn = Totals + D, sumDnN = Totals + 2 * D;
            for (int i = start; i < end; i++)
            {
                long o = (long)i * D;
                for (int j = 0; j < D; j += 16)
                {
                    int c = Math.Min(16, D - j);
                    var g = VectorMath.LoadPartial(Gy + o + j, c);
                    var xv = VectorMath.LoadPartial(X + o + j, c);
                    var pv = VectorMath.LoadPartial(P + o + j, c);
                    var av = VectorMath.LoadPartial(Alpha + j, c);
                    var inv = VectorMath.LoadPartial(Inv + j, c);
                    var nv = (xv - VectorMath.LoadPartial(Mean + j, c)) * inv;
                    var dn = Dn(g * xv, pv, av);
                    var direct = Direct(g, pv, av);
                    var t = dn - VectorMath.LoadPartial(sumDn + j, c) * invN - nv * VectorMath.LoadPartial(sumDnN + j, c) * invN;
                    var prior = Overwrite ? direct : VectorMath.LoadPartial(Gx + o + j, c) + direct;
                    VectorMath.StorePartial(prior + t * inv, Gx + o + j, c);
                }
            }
        }
    }
}
