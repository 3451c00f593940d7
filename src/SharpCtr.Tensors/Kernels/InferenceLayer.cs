using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpCtr.Tensors.Kernels;

public enum InferenceActivation { Identity, Relu, PRelu, Dice }

/// <summary>
/// One dense layer with its activation in inference form, for the fused scoring kernels (DIN's
/// activation unit, small-batch MLPs). Weight is [In, Out] (as <see cref="Nn.Linear"/> stores
/// it). PRelu uses Alpha; Dice uses Alpha, Mean and InvStd (its running statistics,
/// 1/sqrt(var + eps)). Panels: the weight packed by <see cref="SmallMatMul.Pack"/> (frozen modules).
/// Built from the modules by <see cref="Nn.InferenceForm"/>.
/// </summary>
[SkipLocalsInit]
public sealed unsafe record InferenceLayer(float[] Weight, float[]? Bias, int In, int Out, InferenceActivation Act,
    float[]? Alpha = null, float[]? Mean = null, float[]? InvStd = null, float[]? Panels = null)
{
    /// <summary>c [rows, Out] = a [rows, In]·Weight, from the packed weight when the layer has one (same bits either way).</summary>
    internal void Multiply(float* a, int rows, float* c)
    {
        if (Panels is { } panels)
            fixed (float* pp = panels) SmallMatMul.RowsPacked(a, rows, In, pp, Out, c);
        else
            fixed (float* pw = Weight) SmallMatMul.Rows4(a, rows, In, pw, Out, c);
    }

    [ThreadStatic] static int[]? activeScratch;
    [ThreadStatic] static float[]? packedScratch;

    /// <summary>
    /// <see cref="Multiply"/> for an x that a ReLU produced: the products skip the positions where
    /// a whole 4-row block of x is 0 (<see cref="SmallMatMul.ActivePositions"/>), which gives the
    /// same values. When fewer than a tenth of the positions would be skipped, the dense product.
    /// </summary>
    void MultiplySkippingZeros(float* a, int rows, float* c)
    {
        int blocks = rows / 4, need = blocks * (In + 1);
        if (activeScratch is null || activeScratch.Length < need) activeScratch = new int[need];
        if (packedScratch is null || packedScratch.Length < rows * In) packedScratch = new float[rows * In];
        fixed (int* lists = activeScratch)
        fixed (float* pa = packedScratch, pp = Panels)
        {
            int* counts = lists + blocks * In;
            int active = SmallMatMul.ActivePositions(a, rows, In, lists, counts, pa);
            if (active * 10L > blocks * (long)In * 9) SmallMatMul.RowsPacked(a, rows, In, pp, Out, c);
            else SmallMatMul.RowsPackedActive(pa, rows, In, pp, Out, c, lists, counts);
        }
    }

    /// <summary>
    /// y [rows, Out] = act(x·Weight + Bias) for the fused kernels: the product over
    /// <paramref name="padded"/> rows (a multiple of 4; rows past <paramref name="rows"/> are
    /// computed and ignored), then bias and activation on the real rows. <paramref name="afterRelu"/>:
    /// x is the output of a ReLU, so whole zero positions may be skipped (same values).
    /// </summary>
    internal void Forward(float* x, int padded, int rows, float* y, bool afterRelu = false)
    {
        if (afterRelu && Panels is not null) MultiplySkippingZeros(x, padded, y);
        else Multiply(x, padded, y);
        if (Bias is { } bias)
            fixed (float* pb = bias)
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < Out; j += 16)
                        Vector512.Store(Vector512.Load(y + i * Out + j) + Vector512.Load(pb + j), y + i * Out + j);
        ActivateInPlace(y, rows);
    }

    /// <summary>This layer's activation in place on [rows, Out].</summary>
    internal void ActivateInPlace(float* h, int rows)
    {
        int d = Out;
        switch (Act)
        {
            case InferenceActivation.Identity: return;
            case InferenceActivation.Relu:
                for (int i = 0; i < rows * d; i += 16) Vector512.Store(VectorMath.Relu(Vector512.Load(h + i)), h + i);
                return;
            case InferenceActivation.PRelu:
                fixed (float* pa = Alpha)
                    for (int i = 0; i < rows; i++)
                        for (int j = 0; j < d; j += 16)
                        {
                            var v = Vector512.Load(h + i * d + j);
                            var neg = v * Vector512.Load(pa + j);
                            Vector512.Store(Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero), v, neg), h + i * d + j);
                        }
                return;
            case InferenceActivation.Dice:
                fixed (float* pa = Alpha, pm = Mean, pinv = InvStd)
                    DiceInPlace(h, rows, d, pa, pm, pinv);
                return;
        }
    }

    /// <summary>
    /// Dice with fixed statistics, in place: x·(α + (1 − α)·σ((x − mean)·invStd)). Column blocks
    /// outside, rows inside, so the per-column constants are folded once per block, log2(e)
    /// included: −z·log2(e) is one FMA, e^(−z) one <see cref="VectorMath.Exp2InRange"/>, the output
    /// one FMA and a multiply. The exponent is clamped to ±87·log2(e) so e^(−z) neither overflows
    /// nor needs the underflow select (σ is then 0 or 1 to float precision anyway).
    /// This pass was ~40 % of the unit; it is throughput-bound on vector instructions, so every
    /// one removed counts (a reciprocal-plus-Newton step instead of the division made it slower;
    /// base-2 exponent with log2(e) folded in: 20 instead of 25 per vector).
    /// </summary>
    static void DiceInPlace(float* h, int rows, int d, float* alpha, float* mean, float* invStd)
    {
        const float log2E = 1.44269504088896341f;
        var lim = Vector512.Create(87f * log2E);
        for (int j = 0; j < d; j += 16)
        {
            var inv = Vector512.Load(invStd + j) * log2E;
            var negScale = -inv;
            var shift = Vector512.Load(mean + j) * inv;
            var al = Vector512.Load(alpha + j);
            var oneMinusAlpha = VectorMath.One - al;
            for (int i = 0; i < rows; i++)
            {
                float* at = h + i * d + j;
                var v = Vector512.Load(at);
                var negT = VectorMath.Clamp(Vector512.FusedMultiplyAdd(v, negScale, shift), -lim, lim);
                var p = VectorMath.Reciprocal(VectorMath.One + VectorMath.Exp2InRange(negT));
                Vector512.Store(v * Vector512.FusedMultiplyAdd(p, oneMinusAlpha, al), at);
            }
        }
    }
}
