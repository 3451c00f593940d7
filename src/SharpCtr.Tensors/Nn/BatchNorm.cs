namespace SharpCtr.Tensors.Nn;

/// <summary>
/// Batch normalisation over all axes but the last (BatchNorm1d on [N, D] or [B, L, D]):
/// y = γ·(x − mean)/sqrt(var + eps) + β with batch statistics in training mode (biased variance)
/// and running averages (momentum 0.1, unbiased variance) in inference mode, as PyTorch.
/// </summary>
public sealed class BatchNorm : Module
{
    public readonly int Dim;
    public readonly float Eps, Momentum;
    public readonly Tensor Weight, Bias, RunningMean, RunningVar;

    public BatchNorm(int dim, float eps = 1e-5f, float momentum = 0.1f)
    {
        Dim = dim;
        Eps = eps;
        Momentum = momentum;
        Weight = Tensor.Parameter("weight", dim);
        Init.Constant(Weight, 1f);
        Bias = Tensor.Parameter("bias", dim);
        RunningMean = Tensor.Zeros(dim);
        RunningVar = Tensor.Full(1f, dim);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters()
    {
        yield return ("weight", Weight);
        yield return ("bias", Bias);
    }

    protected override IEnumerable<(string, Tensor)> LocalBuffers()
    {
        yield return ("running_mean", RunningMean);
        yield return ("running_var", RunningVar);
    }

    public Tensor Forward(Tensor x)
    {
        int d = Dim;
        if (x.Rank == 0 || x.Shape[^1] != d) throw new ArgumentException($"BatchNorm({d}): input shape {Tensor.ShapeString(x.Shape)} does not end in {d}");
        int n = x.Rows;
        bool batchStats = Training;
        var stats = BatchStats.ForForward(x.Data, n, d, batchStats, RunningMean, RunningVar, Eps, Momentum);
        var mean = stats.Data.AsSpan(0, d); var invStd = stats.Data.AsSpan(2 * d, d);
        var y = Tensor.Temp(x.Shape);
        var nrm = Tensor.Temp(x.Shape);
        var xd = x.Data; var yd = y.Data; var nd = nrm.Data; var w = Weight.Data; var b = Bias.Data;
        for (int i = 0; i < n; i++)
            for (int j = 0, o = i * d; j < d; j++)
            {
                float v = (xd[o + j] - mean[j]) * invStd[j];
                nd[o + j] = v;
                yd[o + j] = v * w[j] + b[j];
            }
        if (Tape.Needs(x, Weight) || Tape.Needs(Bias))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gy = y.Grad.Data;
                if (Weight.RequiresGrad || Bias.RequiresGrad)
                {
                    var gw = Weight.GradBuffer().Data; var gb = Bias.GradBuffer().Data;
                    for (int i = 0; i < n; i++)
                        for (int j = 0, o = i * d; j < d; j++) { gw[j] += gy[o + j] * nd[o + j]; gb[j] += gy[o + j]; }
                }
                if (!x.RequiresGrad) return;
                var gx = x.GradBuffer().Data;
                var gn = Tensor.Temp(x.Shape).Data;
                var inv = stats.Data.AsSpan(2 * d, d);
                for (int i = 0; i < n; i++)
                    for (int j = 0, o = i * d; j < d; j++) gn[o + j] = gy[o + j] * w[j];
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
