namespace SharpCtr.Tensors.Nn;

/// <summary>
/// Per-feature statistics over the rows of an [N, D] view, shared by BatchNorm and Dice:
/// the forward statistics, the running-average update, and the backward pass through
/// n = (x − mean)·invStd when mean and variance are themselves functions of the batch.
/// </summary>
static class BatchStats
{
    /// <summary>Batch mean and biased variance per column, and invStd = 1/sqrt(var + eps).</summary>
    public static void Compute(float[] x, int n, int d, Span<float> mean, Span<float> variance, Span<float> invStd, float eps)
    {
        mean.Clear();
        variance.Clear();
        for (int i = 0; i < n; i++)
        {
            var row = x.AsSpan(i * d, d);
            for (int j = 0; j < d; j++) mean[j] += row[j];
        }
        float invN = 1f / Math.Max(1, n);
        for (int j = 0; j < d; j++) mean[j] *= invN;
        for (int i = 0; i < n; i++)
        {
            var row = x.AsSpan(i * d, d);
            for (int j = 0; j < d; j++) { float c = row[j] - mean[j]; variance[j] += c * c; }
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
            var g = gn.AsSpan(i * d, d); var v = nrm.AsSpan(i * d, d);
            for (int j = 0; j < d; j++) { scratchA[j] += g[j]; scratchB[j] += g[j] * v[j]; }
        }
        float invN = 1f / Math.Max(1, n);
        for (int j = 0; j < d; j++) { scratchA[j] *= invN; scratchB[j] *= invN; }
        for (int i = 0; i < n; i++)
        {
            var g = gn.AsSpan(i * d, d); var v = nrm.AsSpan(i * d, d); var o = gx.AsSpan(i * d, d);
            for (int j = 0; j < d; j++) o[j] += invStd[j] * (g[j] - scratchA[j] - v[j] * scratchB[j]);
        }
    }
}
