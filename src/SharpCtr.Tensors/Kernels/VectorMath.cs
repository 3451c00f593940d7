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

    private static readonly Vector512<float> Log2E = Vector512.Create(1.44269504088896341f);
    private static readonly Vector512<float> Ln2Hi = Vector512.Create(0.693359375f);
    private static readonly Vector512<float> Ln2Lo = Vector512.Create(-2.12194440e-4f);
    // Beyond these e^x is +∞ or 0 in float; clamping keeps n (and so the reduction) small.
    private static readonly Vector512<float> ExpMax = Vector512.Create(89f);
    private static readonly Vector512<float> ExpMin = Vector512.Create(-104f);

    /// <summary>
    /// e^x (relative error ~2 ulp): x = n·ln2 + r with |r| ≤ ln2/2, a degree-6 polynomial for
    /// e^r (Cephes coefficients), and 2^n applied by <see cref="Scale"/>. Our own because the
    /// library's Vector512.Exp runs element by element on CPUs where .NET does not report Vector512
    /// as accelerated (Skylake/Cascade Lake, and every AVX2-only CPU).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var xc = Clamp(x, ExpMin, ExpMax);
        var result = ExpInRange(xc);
        return Vector512.ConditionalSelect(Vector512.LessThan(x, ExpMin), Vector512<float>.Zero, result); // e^(−∞) = 0 exactly
    }

    /// <summary>e^x for x already within [−104, 89] (callers that clamp themselves skip <see cref="Exp"/>'s clamp and underflow select).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpInRange(Vector512<float> x)
    {
        var n = RoundToEven(x * Log2E);
        var r = Vector512.FusedMultiplyAdd(-n, Ln2Hi, x);
        r = Vector512.FusedMultiplyAdd(-n, Ln2Lo, r);
        // Horner, not Estrin: Estrin's shorter chain was 3 % faster in DIN's Dice pass but rounds
        // differently, and training trajectories (MIRRN's planted-signal test) moved with it.
        var p = Vector512.Create(1.9875691500e-4f);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.3981999507e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894e-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459e-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201e-1f));
        p = Vector512.FusedMultiplyAdd(p, r * r, r + One);
        return Scale(p, n); // p·2^n, overflowing to +∞ and underflowing through subnormals
    }

    /// <summary>
    /// 2^t for t already within [−126, 126]: t = n + f with n = round(t), |f| ≤ ½, 2^f by its
    /// degree-6 Taylor polynomial (relative error ≤ 1.2e-7 before rounding), scaled by 2^n with
    /// vscalefps (without AVX-512: one power of two built from n's bits). Five vector operations fewer than <see cref="ExpInRange"/> (no ln 2 reduction,
    /// no split constant): for passes that can fold log2(e) into constants they already apply
    /// (inference Dice).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp2InRange(Vector512<float> t)
    {
        var n = RoundToEven(t);
        var f = t - n;
        var p = Vector512.Create(1.5403530393381608e-4f);
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(1.3333558146428443e-3f));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(9.6181291076284772e-3f));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(5.5504108664821580e-2f));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(2.4022650695910071e-1f));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(6.9314718055994531e-1f));
        p = Vector512.FusedMultiplyAdd(p, f, One);
        if (Avx512F.IsSupported) return Avx512F.Scale(p, n);
        // n ∈ [−126, 126]: 2^n is one normal float, and p·2^n rounds once, as vscalefps does
        return p * Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
    }

    /// <summary>Round to nearest, ties to even (vrndscaleps with AVX-512).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> RoundToEven(Vector512<float> x) =>
        Avx512F.IsSupported ? Avx512F.RoundScale(x, 0x08) : Vector512.Round(x);

    /// <summary>
    /// p·2^n for an integral n in [−150, 128], rounded once: vscalefps with AVX-512. Without it,
    /// two exact powers of two 2^a·2^b (a = ⌊n/2⌋, both in [−75, 64], so each is a normal float):
    /// p·2^a is exact for the polynomial's p ∈ [0.7, 1.5], and ·2^b rounds once, overflowing to
    /// +∞ and underflowing through subnormals as vscalefps does, so both paths give the same bits
    /// (not .NET's Vector512.Exp: where Vector512 is emulated it computes through doubles element by
    /// element, and it rounds differently from this polynomial).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Scale(Vector512<float> p, Vector512<float> n) =>
        Avx512F.IsSupported ? Avx512F.Scale(p, n) : ScaleWithoutAvx512(p, n);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> ScaleWithoutAvx512(Vector512<float> p, Vector512<float> n)
    {
        var ni = Vector512.ConvertToInt32(n);
        var a = Vector512.ShiftRightArithmetic(ni, 1);
        var bias = Vector512.Create(127);
        var twoA = Vector512.ShiftLeft(a + bias, 23).AsSingle();
        var twoB = Vector512.ShiftLeft(ni - a + bias, 23).AsSingle();
        return p * twoA * twoB;
    }

    /// <summary>
    /// min(max(x, lo), hi) as two plain vmaxps/vminps. Vector512.Min/Max carry IEEE-754 2019
    /// NaN and signed-zero rules that the JIT spells as vrangeps plus two vfixupimmps each — five
    /// dependent instructions instead of two in the inner loops. A NaN x still comes out NaN: it is
    /// the second operand, which these instructions return when either is NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Clamp(Vector512<float> x, Vector512<float> lo, Vector512<float> hi)
    {
        if (Avx512F.IsSupported) return Avx512F.Min(hi, Avx512F.Max(lo, x));
        // the same two instructions on each 256-bit half (Vector512.Min/Max's emulation spends 8 per half)
        if (Avx.IsSupported)
            return Vector512.Create(Avx.Min(hi.GetLower(), Avx.Max(lo.GetLower(), x.GetLower())),
                Avx.Min(hi.GetUpper(), Avx.Max(lo.GetUpper(), x.GetUpper())));
        return Vector512.Min(Vector512.Max(x, lo), hi);
    }

    /// <summary>max(x, 0) as one vmaxps (see <see cref="Clamp"/>); NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Relu(Vector512<float> x)
    {
        if (Avx512F.IsSupported) return Avx512F.Max(Vector512<float>.Zero, x);
        if (Avx.IsSupported)
            return Vector512.Create(Avx.Max(Vector256<float>.Zero, x.GetLower()), Avx.Max(Vector256<float>.Zero, x.GetUpper()));
        return Vector512.Max(x, Vector512<float>.Zero);
    }

    /// <summary>
    /// 1/d to float precision without a division: the 14-bit estimate and one Newton step
    /// (relative error ~2⁻²⁸). vdivps has an 18-cycle latency; this is three 4-cycle steps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Reciprocal(Vector512<float> d)
    {
        if (!Avx512F.IsSupported) return One / d;
        var r = Avx512F.Reciprocal14(d);
        return Vector512.FusedMultiplyAdd(r, Avx512F.FusedMultiplyAddNegated(d, r, One), r);
    }

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

    /// <summary>The first <paramref name="count"/> of 16 lanes as two 256-bit masks (all bits set where in).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float>, Vector256<float>) TailMasks256(int count) =>
        (Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle(),
         Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count - 8)).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> TailMask(int count) =>
        Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    /// <summary>Horizontal sum via two 256-bit halves (Vector512.Sum has no AVX-512 fast path
    /// where .NET does not report Vector512 as accelerated).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> v) => Vector256.Sum(v.GetLower() + v.GetUpper());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(Vector512<float> v)
    {
        var m = Vector256.Max(v.GetLower(), v.GetUpper());
        var m128 = Vector128.Max(m.GetLower(), m.GetUpper());
        m128 = Vector128.Max(m128, Vector128.Shuffle(m128, Vector128.Create(2, 3, 0, 1)));
        m128 = Vector128.Max(m128, Vector128.Shuffle(m128, Vector128.Create(1, 0, 3, 2)));
        return m128.ToScalar();
    }

    /// <summary>
    /// x[i] = e^(x[i] − shift) in place, returning the sum: a softmax's exponent pass.
    /// <see cref="Exp"/> on every element, −∞ (a masked key) giving 0 exactly.
    /// TensorPrimitives.Exp hands lanes outside its fast range — masked keys, scores far below
    /// the row's maximum — to a scalar loop (per element ~20× the vector cost); an untrained T5
    /// encoder spent most of its time there.
    /// </summary>
    public static float ExpShiftedInPlace(Span<float> x, float shift)
    {
        var s = Vector512.Create(shift);
        var acc = Vector512<float>.Zero;
        int n = x.Length, i = 0;
        fixed (float* p = x)
        {
            for (; i + 16 <= n; i += 16)
            {
                var e = Exp(Vector512.Load(p + i) - s);
                Vector512.Store(e, p + i);
                acc += e;
            }
            if (i < n)
            {
                var e = Exp(LoadPartial(p + i, n - i, float.NegativeInfinity) - s);   // lanes past the end: e^(−∞) = 0
                StorePartial(e, p + i, n - i);
                acc += e;
            }
        }
        return Sum(acc);
    }

    /// <summary>Loads up to 16 floats, padding with <paramref name="fill"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadPartial(float* p, int count, float fill = 0f)
    {
        if (count >= 16) return Vector512.Load(p);
        if (Avx512F.IsSupported)
            return Avx512F.MaskLoad(p, TailMask(count), Vector512.Create(fill));
        if (Avx.IsSupported)
        {
            // vmaskmovps on each half (masked-off lanes are neither read nor faulted), then the fill
            var (maskLo, maskHi) = TailMasks256(count);
            var f = Vector256.Create(fill);
            return Vector512.Create(Vector256.ConditionalSelect(maskLo, Avx.MaskLoad(p, maskLo), f),
                Vector256.ConditionalSelect(maskHi, Avx.MaskLoad(p + 8, maskHi), f));
        }
        return LoadPartialFallback(p, count, fill);
    }

    // The stackalloc fallbacks live in their own methods: a method with stackalloc is never
    // inlined, and these helpers are called once per embedding row in the hottest loops.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static Vector512<float> LoadPartialFallback(float* p, int count, float fill)
    {
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
        if (Avx.IsSupported)
        {
            var (maskLo, maskHi) = TailMasks256(count);
            Avx.MaskStore(p, maskLo, v.GetLower());
            Avx.MaskStore(p + 8, maskHi, v.GetUpper());
            return;
        }
        StorePartialFallback(v, p, count);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void StorePartialFallback(Vector512<float> v, float* p, int count)
    {
        float* tmp = stackalloc float[16];
        Vector512.Store(v, tmp);
        for (int i = 0; i < count; i++) p[i] = tmp[i];
    }
}
