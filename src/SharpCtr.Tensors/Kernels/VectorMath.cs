using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Transcendental functions on 16 floats at a time, and a loop that applies a 16-wide function
/// to a whole row (the ragged tail goes through a padded stack block, so every element of a row
/// is computed by the same vector code: no scalar twin to keep in sync).
/// </summary>
[SkipLocalsInit]
internal static unsafe class VectorMath
{
    public static readonly Vector512<float> One = Vector512.Create(1f);
    public static readonly Vector512<float> Half = Vector512.Create(0.5f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x) => Vector512.Exp(x);

    /// <summary>1/(1+e^(−x)); saturates cleanly to 0 and 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x) => One / (One + Exp(-x));

    /// <summary>tanh via e^(−2|x|), which never overflows; sign restored afterwards.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        var e = Exp(Vector512.Create(-2f) * Vector512.Abs(x));
        var t = (One - e) / (One + e);
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -t, t);
    }

    /// <summary>erf by Abramowitz–Stegun 7.1.26 (|error| ≤ 1.5e-7, below float resolution near 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Erf(Vector512<float> x)
    {
        var ax = Vector512.Abs(x);
        var t = One / (One + Vector512.Create(0.3275911f) * ax);
        var poly = Vector512.Create(1.061405429f);
        poly = poly * t + Vector512.Create(-1.453152027f);
        poly = poly * t + Vector512.Create(1.421413741f);
        poly = poly * t + Vector512.Create(-0.284496736f);
        poly = poly * t + Vector512.Create(0.254829592f);
        var r = One - poly * t * Exp(-ax * ax);
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -r, r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> TailMask(int count) =>
        Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    /// <summary>Loads up to 16 floats, padding with <paramref name="fill"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadPartial(float* p, int count, float fill = 0f)
    {
        if (count >= 16) return Vector512.Load(p);
        if (Avx512F.IsSupported)
            return Avx512F.MaskLoad(p, TailMask(count), Vector512.Create(fill));
        float* tmp = stackalloc float[16];
        for (int i = 0; i < 16; i++) tmp[i] = i < count ? p[i] : fill;
        return Vector512.Load(tmp);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StorePartial(Vector512<float> v, float* p, int count)
    {
        if (count >= 16) { Vector512.Store(v, p); return; }
        if (Avx512F.IsSupported)
        {
            Avx512F.MaskStore(p, TailMask(count), v);
            return;
        }
        float* tmp = stackalloc float[16];
        Vector512.Store(v, tmp);
        for (int i = 0; i < count; i++) p[i] = tmp[i];
    }
}
