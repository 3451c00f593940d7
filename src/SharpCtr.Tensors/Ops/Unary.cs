using System.Numerics.Tensors;

namespace SharpCtr.Tensors;

/// <summary>Elementwise functions of one tensor (math, activations, scalar arithmetic) and their gradients.</summary>
public static partial class Ops
{
    delegate void UnaryForward(ReadOnlySpan<float> x, Span<float> y);
    /// <summary>Accumulates gx += dy/dx · gy, given x, y = f(x) and gy.</summary>
    delegate void UnaryBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx);

    static Tensor Unary(Tensor x, UnaryForward forward, UnaryBackward backward)
    {
        var y = Tensor.Temp(x.Shape);
        forward(x.Span, y.Span);
        if (Tape.Needs(x))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                backward(x.Span, y.Span, y.Grad.Span, x.GradBuffer().Span);
            });
        return y;
    }

    public static Tensor Neg(Tensor x) => Unary(x,
        static (x, y) => TensorPrimitives.Negate(x, y),
        static (x, y, gy, gx) => TensorPrimitives.Subtract(gx, gy, gx));

    public static Tensor AddScalar(Tensor x, float c) => Unary(x,
        (x, y) => TensorPrimitives.Add(x, c, y),
        static (x, y, gy, gx) => TensorPrimitives.Add(gx, gy, gx));

    public static Tensor MulScalar(Tensor x, float c) => Unary(x,
        (x, y) => TensorPrimitives.Multiply(x, c, y),
        (x, y, gy, gx) => TensorPrimitives.MultiplyAdd(gy, c, gx, gx));

    public static Tensor Exp(Tensor x) => Unary(x,
        static (x, y) => TensorPrimitives.Exp(x, y),
        static (x, y, gy, gx) => TensorPrimitives.MultiplyAdd(gy, y, gx, gx));

    public static Tensor Log(Tensor x) => Unary(x,
        static (x, y) => TensorPrimitives.Log(x, y),
        static (x, y, gy, gx) => { for (int i = 0; i < gx.Length; i++) gx[i] += gy[i] / x[i]; });

    public static Tensor Sqrt(Tensor x) => Unary(x,
        static (x, y) => TensorPrimitives.Sqrt(x, y),
        static (x, y, gy, gx) => { for (int i = 0; i < gx.Length; i++) gx[i] += gy[i] * 0.5f / y[i]; });

    public static Tensor Pow(Tensor x, float p) => Unary(x,
        (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = MathF.Pow(x[i], p); },
        (x, y, gy, gx) => { for (int i = 0; i < gx.Length; i++) gx[i] += gy[i] * p * MathF.Pow(x[i], p - 1); });

    public static Tensor Abs(Tensor x) => Unary(x,
        static (x, y) => TensorPrimitives.Abs(x, y),
        static (x, y, gy, gx) => { for (int i = 0; i < gx.Length; i++) gx[i] += x[i] > 0 ? gy[i] : x[i] < 0 ? -gy[i] : 0f; });

    /// <summary>Clamps into [lo, hi]; the gradient passes only where the input was inside.</summary>
    public static Tensor Clamp(Tensor x, float lo, float hi) => Unary(x,
        (x, y) => TensorPrimitives.Clamp(x, lo, hi, y),
        (x, y, gy, gx) => { for (int i = 0; i < gx.Length; i++) if (x[i] >= lo && x[i] <= hi) gx[i] += gy[i]; });

    public static Tensor Relu(Tensor x)
    {
        var y = Tensor.Temp(x.Shape);
        TensorPrimitives.Max(x.Span, 0f, y.Span);
        RecordActivationBackward(x, y, Kernels.Activation.Relu, 0f);
        return y;
    }

    public static Tensor LeakyRelu(Tensor x, float slope = 0.01f)
    {
        var y = Tensor.Temp(x.Shape);
        if (x.Size > 0) Kernels.BiasActivation.Forward(x.Span, default, x.Rows, x.Cols, Kernels.Activation.LeakyRelu, y.Span, slope);
        RecordActivationBackward(x, y, Kernels.Activation.LeakyRelu, slope);
        return y;
    }

    /// <summary>gx += gy·act'(x) through the fused kernel (vectorised, rows split over the cores):
    /// the element loop it replaced branched on the sign of x, which is random, and was 4 % of a
    /// GenCI training step in its T5 feed-forward layers alone.</summary>
    static void RecordActivationBackward(Tensor x, Tensor y, Kernels.Activation act, float slope)
    {
        if (!Tape.Needs(x) || x.Size == 0) return;
        Tape.Record(y, () =>
        {
            if (y.Grad is null) return;
            Kernels.BiasActivation.Backward(x.Span, default, default, y.Grad.Span, x.Rows, x.Cols, act, x.GradBuffer().Span, default, slope);
        });
    }

    public static Tensor Sigmoid(Tensor x) => Unary(x,
        static (x, y) => TensorPrimitives.Sigmoid(x, y),
        static (x, y, gy, gx) => { for (int i = 0; i < gx.Length; i++) gx[i] += gy[i] * y[i] * (1 - y[i]); });

    public static Tensor Tanh(Tensor x) => Unary(x,
        static (x, y) => TensorPrimitives.Tanh(x, y),
        static (x, y, gy, gx) => { for (int i = 0; i < gx.Length; i++) gx[i] += gy[i] * (1 - y[i] * y[i]); });

    /// <summary>log(1 + e^x), computed stably for large |x|.</summary>
    public static Tensor Softplus(Tensor x) => Unary(x,
        static (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = Scalar.Softplus(x[i]); },
        static (x, y, gy, gx) => { for (int i = 0; i < gx.Length; i++) gx[i] += gy[i] * Scalar.Sigmoid(x[i]); });

    /// <summary>Elementwise sine (angles in radians), e.g. the imaginary part of e^{iθ} in rotation-based models.</summary>
    public static Tensor Sin(Tensor x) => Unary(x,
        static (x, y) => TensorPrimitives.Sin(x, y),
        static (x, y, gy, gx) => { for (int i = 0; i < gx.Length; i++) gx[i] += gy[i] * MathF.Cos(x[i]); });

    /// <summary>Elementwise cosine (angles in radians), the real part of e^{iθ}.</summary>
    public static Tensor Cos(Tensor x) => Unary(x,
        static (x, y) => TensorPrimitives.Cos(x, y),
        static (x, y, gy, gx) => { for (int i = 0; i < gx.Length; i++) gx[i] -= gy[i] * MathF.Sin(x[i]); });

    /// <summary>GELU with the exact erf form (PyTorch's default).</summary>
    public static Tensor Gelu(Tensor x) => Unary(x,
        static (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = 0.5f * x[i] * (1 + Scalar.Erf(x[i] * 0.70710678f)); },
        static (x, y, gy, gx) =>
        {
            for (int i = 0; i < gx.Length; i++)
            {
                float cdf = 0.5f * (1 + Scalar.Erf(x[i] * 0.70710678f));
                float pdf = 0.39894228f * MathF.Exp(-0.5f * x[i] * x[i]);
                gx[i] += gy[i] * (cdf + x[i] * pdf);
            }
        });
}

/// <summary>Scalar helpers shared by ops and kernels.</summary>
public static class Scalar
{
    public static float Sigmoid(float x) => x >= 0 ? 1f / (1f + MathF.Exp(-x)) : MathF.Exp(x) / (1f + MathF.Exp(x));

    public static float Softplus(float x) => x > 20 ? x : x < -20 ? MathF.Exp(x) : MathF.Log(1 + MathF.Exp(x));

    /// <summary>erf with absolute error below 1.2e-7 (enough for float32 GELU to match PyTorch).</summary>
    public static float Erf(float x) => (float)Erf((double)x);

    public static double Erf(double x)
    {
        // Complementary error function as exp(-z² + polynomial in t): the Chebyshev-fitted form of Numerical Recipes.
        double z = Math.Abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
                   t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
                   t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - r : r - 1;
    }
}
