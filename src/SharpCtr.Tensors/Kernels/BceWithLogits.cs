using System.Runtime.Intrinsics;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Binary cross-entropy on logits, stable for any logit: ℓ = max(x,0) − x·t + log(1 + e^(−|x|)).
/// </summary>
public static unsafe class BceWithLogits
{
    /// <summary>Σ ℓ over all elements (double accumulation; divide by the count for the mean).</summary>
    public static double ForwardSum(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets)
    {
        Check.Vector("BceWithLogits.ForwardSum", "targets", targets.Length, logits.Length);
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            float x = logits[i];
            sum += Math.Max(x, 0f) - x * targets[i] + Math.Log(1 + Math.Exp(-Math.Abs(x)));
        }
        return sum;
    }

    /// <summary>dLogits += scale · (σ(x) − t); scale is dLoss (divided by the count for a mean).</summary>
    public static void Backward(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, float scale, Span<float> dLogits)
    {
        const string op = "BceWithLogits.Backward";
        Check.Vector(op, "targets", targets.Length, logits.Length);
        Check.Vector(op, "dLogits", dLogits.Length, logits.Length);
        var s = Vector512.Create(scale);
        fixed (float* px = logits, pt = targets, pd = dLogits)
        {
            for (int i = 0; i < logits.Length; i += 16)
            {
                int n = logits.Length - i;
                var g = VectorMath.Sigmoid(VectorMath.LoadPartial(px + i, n)) - VectorMath.LoadPartial(pt + i, n);
                VectorMath.StorePartial(VectorMath.LoadPartial(pd + i, n) + s * g, pd + i, n);
            }
        }
    }
}
