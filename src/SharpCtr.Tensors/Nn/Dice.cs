using System.Numerics.Tensors;

namespace SharpCtr.Tensors.Nn;

/// <summary>
/// Dice, the data-adaptive activation of DIN (Zhou et al. 2018):
/// p = sigmoid((x − E[x]) / sqrt(Var[x] + eps)), y = p·x + (1 − p)·α·x, per feature (last axis).
/// In training mode E and Var are the batch statistics over all rows (all axes but the last,
/// biased variance), and running averages are kept like BatchNorm (momentum 0.1, unbiased
/// running variance, starting at mean 0 / variance 1); inference mode uses the running averages.
/// Fused: one pass forward, one pass backward, no per-element closures.
/// </summary>
public sealed class Dice : Module
{
    public readonly int Dim;
    public readonly float Eps, Momentum;
    public readonly Tensor Alpha;
    public readonly Tensor RunningMean, RunningVar;

    public Dice(int dim, float eps = 1e-8f, float momentum = 0.1f)
    {
        Dim = dim;
        Eps = eps;
        Momentum = momentum;
        Alpha = Tensor.Parameter("alpha", dim);
        RunningMean = Tensor.Zeros(dim);
        RunningVar = Tensor.Full(1f, dim);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters() { yield return ("alpha", Alpha); }
    protected override IEnumerable<(string, Tensor)> LocalBuffers()
    {
        yield return ("running_mean", RunningMean);
        yield return ("running_var", RunningVar);
    }

    public Tensor Forward(Tensor x)
    {
        int d = Dim;
        if (x.Rank == 0 || x.Shape[^1] != d) throw new ArgumentException($"Dice({d}): input shape {Tensor.ShapeString(x.Shape)} does not end in {d}");
        int n = x.Rows;
        bool batchStats = Training;
        var stats = BatchStats.ForForward(x.Data, n, d, batchStats, RunningMean, RunningVar, Eps, Momentum);
        var y = Tensor.Temp(x.Shape);
        var nrm = Tensor.Temp(x.Shape);
        var p = Tensor.Temp(x.Shape);
        DiceKernel.Forward(x.Data, stats.Data, Alpha.Data, n, d, nrm.Data, p.Data, y.Data);
        if (Tape.Needs(x, Alpha))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var scratch = Tensor.Temp([3, d], zero: true).Data;   // dα, Σgn, Σgn·n
                var gx = x.RequiresGrad ? x.GradBuffer().Data : null;
                var gn = gx is null ? null : Tensor.Temp(x.Shape).Data;
                DiceKernel.Backward(x.Data, p.Data, nrm.Data, y.Grad.Data, Alpha.Data, stats.Data, n, d, batchStats, gx, gn, scratch);
                if (Alpha.RequiresGrad) TensorPrimitives.Add(Alpha.GradBuffer().Span, scratch.AsSpan(0, d), Alpha.Grad!.Span);
            });
        return y;
    }
}

/// <summary>
/// Dice's fused passes, one row at a time in 16-wide vectors: the forward computes the
/// normalised input n, p = sigmoid(n) and y together; the backward computes dα, dL/dn and the
/// direct path in one pass, then (with batch statistics) the path through mean and variance.
/// </summary>
static unsafe class DiceKernel
{
    /// <param name="stats">[mean | variance | invStd], each <paramref name="d"/> wide.</param>
    public static void Forward(float[] x, float[] stats, float[] alpha, int n, int d, float[] nrm, float[] p, float[] y)
    {
        fixed (float* px = x, ps = stats, pa = alpha, pn = nrm, pp = p, py = y)
        {
            float* mean = ps, inv = ps + 2 * d;
            for (int i = 0; i < n; i++)
            {
                long o = (long)i * d;
                for (int j = 0; j < d; j += 16)
                {
                    int c = Math.Min(16, d - j);
                    var xv = Kernels.VectorMath.LoadPartial(px + o + j, c);
                    var v = (xv - Kernels.VectorMath.LoadPartial(mean + j, c)) * Kernels.VectorMath.LoadPartial(inv + j, c);
                    var sg = Kernels.VectorMath.Sigmoid(v);
                    var av = Kernels.VectorMath.LoadPartial(pa + j, c);
                    Kernels.VectorMath.StorePartial(v, pn + o + j, c);
                    Kernels.VectorMath.StorePartial(sg, pp + o + j, c);
                    Kernels.VectorMath.StorePartial(xv * (av + sg * (Kernels.VectorMath.One - av)), py + o + j, c);
                }
            }
        }
    }

    /// <param name="scratch">[dα | Σ gn | Σ gn·n], zeroed, 3·d.</param>
    public static void Backward(float[] x, float[] p, float[] nrm, float[] gy, float[] alpha, float[] stats, int n, int d,
        bool batchStats, float[]? gx, float[]? gn, float[] scratch)
    {
        fixed (float* px = x, pp = p, pn = nrm, pg = gy, pa = alpha, ps = stats, pgx = gx, pgn = gn, pscr = scratch)
        {
            float* inv = ps + 2 * d, ga = pscr, sumG = pscr + d, sumGN = pscr + 2 * d;
            var one = Kernels.VectorMath.One;
            for (int i = 0; i < n; i++)
            {
                long o = (long)i * d;
                for (int j = 0; j < d; j += 16)
                {
                    int c = Math.Min(16, d - j);
                    var g = Kernels.VectorMath.LoadPartial(pg + o + j, c);
                    var xv = Kernels.VectorMath.LoadPartial(px + o + j, c);
                    var pv = Kernels.VectorMath.LoadPartial(pp + o + j, c);
                    var av = Kernels.VectorMath.LoadPartial(pa + j, c);
                    var gxv = g * xv;
                    // dα += dy·x·(1 − p)
                    Kernels.VectorMath.StorePartial(Kernels.VectorMath.LoadPartial(ga + j, c) + gxv * (one - pv), ga + j, c);
                    if (pgx == null) continue;
                    // direct path dx += dy·(α + p·(1 − α)); through p: dn = dy·x·(1 − α)·p·(1 − p)
                    var direct = Kernels.VectorMath.LoadPartial(pgx + o + j, c) + g * (av + pv * (one - av));
                    var dn = gxv * (one - av) * pv * (one - pv);
                    if (!batchStats) direct += dn * Kernels.VectorMath.LoadPartial(inv + j, c);
                    Kernels.VectorMath.StorePartial(direct, pgx + o + j, c);
                    if (!batchStats) continue;
                    Kernels.VectorMath.StorePartial(dn, pgn + o + j, c);
                    Kernels.VectorMath.StorePartial(Kernels.VectorMath.LoadPartial(sumG + j, c) + dn, sumG + j, c);
                    Kernels.VectorMath.StorePartial(Kernels.VectorMath.LoadPartial(sumGN + j, c) + dn * Kernels.VectorMath.LoadPartial(pn + o + j, c), sumGN + j, c);
                }
            }
            if (pgx == null || !batchStats) return;
            // through the batch statistics: dx += invStd·(dn − mean(dn) − n·mean(dn·n))
            var invN = System.Runtime.Intrinsics.Vector512.Create(1f / Math.Max(1, n));
            for (int i = 0; i < n; i++)
            {
                long o = (long)i * d;
                for (int j = 0; j < d; j += 16)
                {
                    int c = Math.Min(16, d - j);
                    var t = Kernels.VectorMath.LoadPartial(pgn + o + j, c) - Kernels.VectorMath.LoadPartial(sumG + j, c) * invN
                            - Kernels.VectorMath.LoadPartial(pn + o + j, c) * Kernels.VectorMath.LoadPartial(sumGN + j, c) * invN;
                    Kernels.VectorMath.StorePartial(Kernels.VectorMath.LoadPartial(pgx + o + j, c) + t * Kernels.VectorMath.LoadPartial(inv + j, c), pgx + o + j, c);
                }
            }
        }
    }
}
