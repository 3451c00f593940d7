using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpCtr.Tensors.Kernels;

/// <summary>Activation functions the fused bias+activation kernels know.</summary>
public enum Activation
{
    Identity,
    Relu,
    /// <summary>x for x &gt; 0, slope·x otherwise (slope is a kernel argument, torch default 0.01).</summary>
    LeakyRelu,
    Sigmoid,
    Tanh,
    /// <summary>GELU with the exact erf, torch's default (<c>approximate='none'</c>).</summary>
    GeluErf,
    /// <summary>GELU's tanh approximation (<c>approximate='tanh'</c>).</summary>
    GeluTanh,
}

/// <summary>
/// One activation as a pair of 16-wide functions: value f(z), and derivative f'(z) given z and
/// y = f(z) (sigmoid and tanh use y, the GELUs need z).
/// </summary>
internal interface IActivationOp
{
    static abstract Vector512<float> Forward(Vector512<float> z, Vector512<float> slope);
    static abstract Vector512<float> Derivative(Vector512<float> z, Vector512<float> y, Vector512<float> slope);
}

internal struct IdentityOp : IActivationOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Forward(Vector512<float> z, Vector512<float> slope) => z;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Derivative(Vector512<float> z, Vector512<float> y, Vector512<float> slope) => VectorMath.One;
}

internal struct ReluOp : IActivationOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Forward(Vector512<float> z, Vector512<float> slope) => VectorMath.Relu(z);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Derivative(Vector512<float> z, Vector512<float> y, Vector512<float> slope) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512<float>.Zero), VectorMath.One, Vector512<float>.Zero);
}

internal struct LeakyReluOp : IActivationOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Forward(Vector512<float> z, Vector512<float> slope) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512<float>.Zero), z, z * slope);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Derivative(Vector512<float> z, Vector512<float> y, Vector512<float> slope) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512<float>.Zero), VectorMath.One, slope);
}

internal struct SigmoidOp : IActivationOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Forward(Vector512<float> z, Vector512<float> slope) => VectorMath.Sigmoid(z);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Derivative(Vector512<float> z, Vector512<float> y, Vector512<float> slope) => y * (VectorMath.One - y);
}

internal struct TanhOp : IActivationOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Forward(Vector512<float> z, Vector512<float> slope) => VectorMath.Tanh(z);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Derivative(Vector512<float> z, Vector512<float> y, Vector512<float> slope) => VectorMath.One - y * y;
}

internal struct GeluErfOp : IActivationOp
{
    private static readonly Vector512<float> InvSqrt2 = Vector512.Create(0.70710678118654752f);
    private static readonly Vector512<float> InvSqrt2Pi = Vector512.Create(0.39894228040143268f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Forward(Vector512<float> z, Vector512<float> slope) =>
        VectorMath.Half * z * (VectorMath.One + VectorMath.Erf(z * InvSqrt2));

    // d/dz z·Φ(z) = Φ(z) + z·φ(z)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Derivative(Vector512<float> z, Vector512<float> y, Vector512<float> slope) =>
        VectorMath.Half * (VectorMath.One + VectorMath.Erf(z * InvSqrt2)) + z * InvSqrt2Pi * VectorMath.Exp(-VectorMath.Half * z * z);
}

internal struct GeluTanhOp : IActivationOp
{
    private static readonly Vector512<float> Sqrt2OverPi = Vector512.Create(0.79788456080286536f);
    private static readonly Vector512<float> C = Vector512.Create(0.044715f);
    private static readonly Vector512<float> C3 = Vector512.Create(3f * 0.044715f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Forward(Vector512<float> z, Vector512<float> slope) =>
        VectorMath.Half * z * (VectorMath.One + VectorMath.Tanh(Sqrt2OverPi * (z + C * z * z * z)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Derivative(Vector512<float> z, Vector512<float> y, Vector512<float> slope)
    {
        var t = VectorMath.Tanh(Sqrt2OverPi * (z + C * z * z * z));
        return VectorMath.Half * (VectorMath.One + t) + VectorMath.Half * z * (VectorMath.One - t * t) * Sqrt2OverPi * (VectorMath.One + C3 * z * z);
    }
}
