namespace SharpCtr.Tensors;

/// <summary>Layer norm and RMS norm over the last axis.</summary>
public static partial class Ops
{
    /// <summary>(x − mean)/sqrt(var + eps) · gamma + beta per row (biased variance, as PyTorch).</summary>
    public static Tensor LayerNorm(Tensor x, Tensor? gamma, Tensor? beta, float eps = 1e-5f) => NormCore(x, gamma, beta, eps, rms: false);

    /// <summary>x / sqrt(mean(x²) + eps) · gamma per row (T5's norm: no centring, no bias).</summary>
    public static Tensor RmsNorm(Tensor x, Tensor? gamma, float eps = 1e-6f) => NormCore(x, gamma, null, eps, rms: true);

    static Tensor NormCore(Tensor x, Tensor? gamma, Tensor? beta, float eps, bool rms)
    {
        int d = x.Cols, rows = x.Rows;
        if (gamma is not null && gamma.Size != d) throw new ArgumentException($"norm weight has {gamma.Size} elements, last axis has {d}");
        if (beta is not null && beta.Size != d) throw new ArgumentException($"norm bias has {beta.Size} elements, last axis has {d}");
        var y = Tensor.Temp(x.Shape);
        var xhat = Tensor.Temp([x.Size]).Data;   // kept for backward
        var rstd = Tensor.Temp([rows]).Data;
        var xd = x.Data; var yd = y.Data;
        var g = gamma?.Data; var b = beta?.Data;
        for (int r = 0; r < rows; r++)
        {
            int o = r * d;
            double mean = 0, sq = 0;
            if (!rms) { for (int j = 0; j < d; j++) mean += xd[o + j]; mean /= d; }
            for (int j = 0; j < d; j++) { double c = xd[o + j] - mean; sq += c * c; }
            float rs = (float)(1 / Math.Sqrt(sq / d + eps));
            rstd[r] = rs;
            for (int j = 0; j < d; j++)
            {
                float h = (float)(xd[o + j] - mean) * rs;
                xhat[o + j] = h;
                yd[o + j] = h * (g is null ? 1f : g[j]) + (b is null ? 0f : b[j]);
            }
        }
        bool needX = Tape.Needs(x), needG = gamma is not null && Tape.Needs(gamma), needB = beta is not null && Tape.Needs(beta);
        if (needX || needG || needB)
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gy = y.Grad.Data;
                var gg = needG ? gamma!.GradBuffer().Data : null;
                var gb = needB ? beta!.GradBuffer().Data : null;
                var gx = needX ? x.GradBuffer().Data : null;
                for (int r = 0; r < rows; r++)
                {
                    int o = r * d;
                    double sumD = 0, sumDH = 0;
                    for (int j = 0; j < d; j++)
                    {
                        float dh = gy[o + j] * (g is null ? 1f : g[j]);
                        sumD += dh;
                        sumDH += dh * xhat[o + j];
                        if (gg is not null) gg[j] += gy[o + j] * xhat[o + j];
                        if (gb is not null) gb[j] += gy[o + j];
                    }
                    if (gx is null) continue;
                    float meanD = rms ? 0f : (float)(sumD / d), meanDH = (float)(sumDH / d);
                    for (int j = 0; j < d; j++)
                    {
                        float dh = gy[o + j] * (g is null ? 1f : g[j]);
                        gx[o + j] += rstd[r] * (dh - meanD - xhat[o + j] * meanDH);
                    }
                }
            });
        return y;
    }
}
