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
        var stats = Tensor.Temp([3, d]); // mean, variance, invStd
        var mean = stats.Data.AsSpan(0, d); var variance = stats.Data.AsSpan(d, d); var invStd = stats.Data.AsSpan(2 * d, d);
        if (batchStats)
        {
            BatchStats.Compute(x.Data, n, d, mean, variance, invStd, Eps);
            BatchStats.UpdateRunning(RunningMean, RunningVar, mean, variance, n, Momentum);
        }
        else
        {
            RunningMean.Span.CopyTo(mean);
            for (int j = 0; j < d; j++) invStd[j] = 1f / MathF.Sqrt(RunningVar.Data[j] + Eps);
        }
        var y = Tensor.Temp(x.Shape);
        var nrm = Tensor.Temp(x.Shape);
        var p = Tensor.Temp(x.Shape);
        var xd = x.Data; var yd = y.Data; var nd = nrm.Data; var pd = p.Data; var a = Alpha.Data;
        var oneMinusA = Tensor.Temp([d]).Data.AsSpan(0, d);
        TensorPrimitives.Subtract(1f, Alpha.Span, oneMinusA);
        for (int i = 0; i < n; i++)
        {
            var nr = nd.AsSpan(i * d, d);
            TensorPrimitives.Subtract(xd.AsSpan(i * d, d), mean, nr);
            TensorPrimitives.Multiply(nr, invStd, nr);
        }
        TensorPrimitives.Sigmoid(nrm.Span, p.Span);
        for (int i = 0; i < n; i++)
        {
            // y = x·(α + p·(1 − α))
            var yr = yd.AsSpan(i * d, d);
            TensorPrimitives.MultiplyAdd(pd.AsSpan(i * d, d), oneMinusA, Alpha.Span, yr);
            TensorPrimitives.Multiply(yr, xd.AsSpan(i * d, d), yr);
        }
        if (Tape.Needs(x, Alpha))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gy = y.Grad.Data;
                var om = Tensor.Temp([d]).Data.AsSpan(0, d);
                TensorPrimitives.Subtract(1f, Alpha.Span, om);
                var t = Tensor.Temp([d]).Data.AsSpan(0, d);
                if (Alpha.RequiresGrad)
                {
                    // dα = Σ_rows dy·x·(1 − p)
                    var ga = Alpha.GradBuffer().Span;
                    for (int i = 0; i < n; i++)
                    {
                        TensorPrimitives.Subtract(1f, pd.AsSpan(i * d, d), t);
                        TensorPrimitives.Multiply(t, gy.AsSpan(i * d, d), t);
                        TensorPrimitives.MultiplyAdd(t, xd.AsSpan(i * d, d), ga, ga);
                    }
                }
                if (!x.RequiresGrad) return;
                var gx = x.GradBuffer().Data;
                var gn = Tensor.Temp(x.Shape).Data;
                var inv = stats.Data.AsSpan(2 * d, d);
                for (int i = 0; i < n; i++)
                {
                    var pr = pd.AsSpan(i * d, d); var gyr = gy.AsSpan(i * d, d); var gxr = gx.AsSpan(i * d, d); var gnr = gn.AsSpan(i * d, d);
                    // direct path: dx += dy·(α + p·(1 − α))
                    TensorPrimitives.MultiplyAdd(pr, om, Alpha.Span, t);
                    TensorPrimitives.MultiplyAdd(gyr, t, gxr, gxr);
                    // through p: dn = dy·x·(1 − α)·p·(1 − p)
                    TensorPrimitives.Multiply(gyr, xd.AsSpan(i * d, d), gnr);
                    TensorPrimitives.Multiply(gnr, om, gnr);
                    TensorPrimitives.Subtract(1f, pr, t);
                    TensorPrimitives.Multiply(t, pr, t);
                    TensorPrimitives.Multiply(gnr, t, gnr);
                }
                if (batchStats)
                {
                    var scratch = Tensor.Temp([2, d]).Data;
                    BatchStats.NormalizeBackward(gn, nd, n, d, inv, gx, scratch.AsSpan(0, d), scratch.AsSpan(d, d));
                }
                else
                    for (int i = 0; i < n; i++)
                        for (int j = 0, o = i * d; j < d; j++) gx[o + j] += gn[o + j] * inv[j];
            });
        return y;
    }
}
