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

    /// <summary>Batch mean and biased variance per column, and invStd = 1/sqrt(var + eps).</summary>
    public static void Compute(float[] x, int n, int d, Span<float> mean, Span<float> variance, Span<float> invStd, float eps)
    {
        mean.Clear();
        variance.Clear();
        for (int i = 0; i < n; i++) TensorPrimitives.Add(mean, x.AsSpan(i * d, d), mean);
        float invN = 1f / Math.Max(1, n);
        TensorPrimitives.Multiply(mean, invN, mean);
        Span<float> c = d <= 1024 ? stackalloc float[d] : new float[d];
        for (int i = 0; i < n; i++)
        {
            TensorPrimitives.Subtract(x.AsSpan(i * d, d), mean, c);
            TensorPrimitives.MultiplyAdd(c, c, variance, variance);
        }
        for (int j = 0; j < d; j++)
        {
            variance[j] *= invN;
            invStd[j] = 1f / MathF.Sqrt(variance[j] + eps);
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
