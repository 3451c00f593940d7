namespace SharpCtr.Tensors;

/// <summary>Layer norm and RMS norm over the last axis.</summary>
public static partial class Ops
{
    /// <summary>(x − mean)/sqrt(var + eps) · gamma + beta per row (biased variance, as PyTorch).</summary>
    public static Tensor LayerNorm(Tensor x, Tensor? gamma, Tensor? beta, float eps = 1e-5f) => NormCore(x, gamma, beta, eps, rms: false);

    /// <summary>x / sqrt(mean(x²) + eps) · gamma per row (T5's norm: no centring, no bias).</summary>
    public static Tensor RmsNorm(Tensor x, Tensor? gamma, float eps = 1e-6f) => NormCore(x, gamma, null, eps, rms: true);

    // Vectorised and row-parallel kernels (Kernels/Normalization, compared there with a plain
    // reference); the scalar double-precision loop this replaced was ~10 % of a T5 training step.
    static Tensor NormCore(Tensor x, Tensor? gamma, Tensor? beta, float eps, bool rms)
    {
        int d = x.Cols, rows = x.Rows, n = x.Size;
        if (gamma is not null && gamma.Size != d) throw new ArgumentException($"norm weight has {gamma.Size} elements, last axis has {d}");
        if (beta is not null && beta.Size != d) throw new ArgumentException($"norm bias has {beta.Size} elements, last axis has {d}");
        var y = Tensor.Temp(x.Shape);
        var rstd = Tensor.Temp([rows]);
        var mean = rms ? null : Tensor.Temp([rows]);
        var g = gamma is null ? ReadOnlySpan<float>.Empty : gamma.Data.AsSpan(0, d);
        if (rms)
            Kernels.Normalization.RmsNormForward(x.Data.AsSpan(0, n), g, rows, d, eps, y.Data.AsSpan(0, n), rstd.Data.AsSpan(0, rows));
        else
            Kernels.Normalization.LayerNormForward(x.Data.AsSpan(0, n), g, beta is null ? ReadOnlySpan<float>.Empty : beta.Data.AsSpan(0, d),
                rows, d, eps, y.Data.AsSpan(0, n), mean!.Data.AsSpan(0, rows), rstd.Data.AsSpan(0, rows));
        bool needX = Tape.Needs(x), needG = gamma is not null && Tape.Needs(gamma), needB = beta is not null && Tape.Needs(beta);
        if (needX || needG || needB)
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gy = y.Grad.Data.AsSpan(0, n);
                var gamma0 = gamma is null ? ReadOnlySpan<float>.Empty : gamma.Data.AsSpan(0, d);
                var gx = needX ? x.GradBuffer().Data.AsSpan(0, n) : Span<float>.Empty;
                var gg = needG ? gamma!.GradBuffer().Data.AsSpan(0, d) : Span<float>.Empty;
                if (rms)
                    Kernels.Normalization.RmsNormBackward(x.Data.AsSpan(0, n), gamma0, rstd.Data.AsSpan(0, rows), gy, rows, d, gx, gg);
                else
                    Kernels.Normalization.LayerNormBackward(x.Data.AsSpan(0, n), gamma0, mean!.Data.AsSpan(0, rows), rstd.Data.AsSpan(0, rows), gy, rows, d,
                        gx, gg, needB ? beta!.GradBuffer().Data.AsSpan(0, d) : Span<float>.Empty);
            });
        return y;
    }
}
