using System.Numerics.Tensors;

namespace SharpCtr.Tensors.Nn;

/// <summary>
/// Dice, the data-adaptive activation of DIN (Zhou et al. 2018):
/// p = sigmoid((x − E[x]) / sqrt(Var[x] + eps)), y = p·x + (1 − p)·α·x, per feature (last axis).
/// In training mode E and Var are the batch statistics over all rows (all axes but the last,
/// biased variance), and running averages are kept like BatchNorm (momentum 0.1, unbiased
/// running variance, starting at mean 0 / variance 1); inference mode uses the running averages.
/// Fused (<see cref="DiceKernel"/>): one pass forward, two backward (the second once the batch sums are known), no per-element closures.
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
        bool record = Tape.Needs(x, Alpha);
        var p = record ? Tensor.Temp(x.Shape) : null;   // the gate, kept for backward
        DiceKernel.Forward(x.Data, stats.Data, Alpha.Data, n, d, p?.Data, y.Data);
        if (record)
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var alphaGrad = Tensor.Temp([d], zero: true).Data;
                bool fresh = false;
                var gx = x.RequiresGrad ? x.GradBufferForWrite(out fresh).Data : null;
                DiceKernel.Backward(x.Data, p!.Data, y.Grad.Data, Alpha.Data, stats.Data, n, d, batchStats, gx, fresh, alphaGrad);
                if (Alpha.RequiresGrad) TensorPrimitives.Add(Alpha.GradBuffer().Span, alphaGrad, Alpha.Grad!.Span);
            });
        return y;
    }
}
