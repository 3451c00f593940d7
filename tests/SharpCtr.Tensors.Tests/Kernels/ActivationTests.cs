using System.Runtime.Intrinsics;
using SharpCtr.Tensors.Kernels;
using static SharpCtr.Tensors.Tests.Kernels.KernelTestUtil;

namespace SharpCtr.Tensors.Tests.Kernels;

[Collection("KernelSettings")]
public class ActivationTests
{
    private const double Slope = 0.05;

    /// <summary>erf by its Taylor series (|x| &lt; 4, 1e-9 accurate) or ±1 beyond: .NET has no Math.Erf.</summary>
    internal static double Erf(double x)
    {
        if (Math.Abs(x) >= 4) return Math.Sign(x);
        double sum = 0, term = x;
        for (int n = 0; n < 200; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    private static double F(Activation a, double z) => a switch
    {
        Activation.Identity => z,
        Activation.Relu => Math.Max(z, 0),
        Activation.LeakyRelu => z > 0 ? z : Slope * z,
        Activation.Sigmoid => 1 / (1 + Math.Exp(-z)),
        Activation.Tanh => Math.Tanh(z),
        Activation.GeluErf => 0.5 * z * (1 + Erf(z / Math.Sqrt(2))),
        Activation.GeluTanh => 0.5 * z * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (z + 0.044715 * z * z * z))),
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    /// <summary>Derivative by central differences in double (h small, functions smooth away from 0).</summary>
    private static double DF(Activation a, double z)
    {
        if (a is Activation.Relu) return z > 0 ? 1 : 0;
        if (a is Activation.LeakyRelu) return z > 0 ? 1 : Slope;
        const double h = 1e-5;
        return (F(a, z + h) - F(a, z - h)) / (2 * h);
    }

    public static IEnumerable<object[]> Cases()
    {
        foreach (Activation a in Enum.GetValues<Activation>())
            foreach (int cols in new[] { 1, 3, 17, 33, 65, 127 })
                yield return [a, cols];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAndBackwardMatchReference(Activation act, int cols)
    {
        var rng = new Random(cols * 10 + (int)act);
        int rows = 37;
        var x = Random(rng, rows * cols, 6f);
        var bias = Random(rng, cols);
        var dy = Random(rng, rows * cols);
        var y = new float[rows * cols];
        BiasActivation.Forward(x, bias, rows, cols, act, y, (float)Slope);

        var dx = Random(rng, rows * cols); // backward adds: start from non-zero
        var dxStart = (float[])dx.Clone();
        var dbias = Random(rng, cols);
        var dbStart = (float[])dbias.Clone();
        BiasActivation.Backward(x, bias, y, dy, rows, cols, act, dx, dbias, (float)Slope);

        var yRef = new double[rows * cols];
        var dxRef = new double[rows * cols];
        var dbRef = new double[cols];
        for (int c = 0; c < cols; c++) dbRef[c] = dbStart[c];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                double z = (double)x[i] + bias[c];
                yRef[i] = F(act, z);
                double g = dy[i] * DF(act, z);
                dxRef[i] = dxStart[i] + g;
                dbRef[c] += g;
            }
        AssertClose(yRef, y, 2e-6, 2e-6, $"{act} forward");
        AssertClose(dxRef, dx, 2e-5, 1e-5, $"{act} dx");
        AssertClose(dbRef, dbias, 2e-4, 1e-5, $"{act} dbias");
    }

    [Fact]
    public void SaturatesWithoutNaN()
    {
        float[] x = [-1000f, -90f, 0f, 90f, 1000f, float.MaxValue, float.MinValue];
        foreach (Activation act in Enum.GetValues<Activation>())
        {
            var y = new float[x.Length];
            BiasActivation.Forward(x, default, 1, x.Length, act, y);
            foreach (float v in y) Assert.False(float.IsNaN(v), $"{act} gave NaN");
        }
        var s = new float[2];
        BiasActivation.Forward([-1000f, 1000f], default, 1, 2, Activation.Sigmoid, s);
        Assert.Equal(new float[] { 0f, 1f }, s);
    }

    [Fact]
    public void OneAndTwoThreadsAreBitIdentical()
    {
        var rng = new Random(1);
        int rows = 301, cols = 45;
        var x = Random(rng, rows * cols, 3f);
        var bias = Random(rng, cols);
        var dy = Random(rng, rows * cols);
        float[] Run(int threads)
        {
            var y = new float[rows * cols];
            var dx = new float[rows * cols];
            var db = new float[cols];
            WithThreads(threads, () =>
            {
                BiasActivation.Forward(x, bias, rows, cols, Activation.GeluErf, y);
                BiasActivation.Backward(x, bias, y, dy, rows, cols, Activation.GeluErf, dx, db);
            });
            return [.. y, .. dx, .. db];
        }
        AssertBitIdentical(Run(1), Run(2), "bias+gelu");
    }

    [Fact]
    public void WrongSizesThrow()
    {
        var ex = Assert.Throws<ArgumentException>(() => BiasActivation.Forward(new float[6], new float[2], 2, 3, Activation.Relu, new float[6]));
        Assert.Contains("bias", ex.Message);
        Assert.Throws<ArgumentException>(() => BiasActivation.Forward(new float[5], default, 2, 3, Activation.Relu, new float[6]));
    }
}

public class VectorExpTests
{
    /// <summary>A vector function over x, 16 lanes at a time (the last vector partial).</summary>
    static unsafe float[] Apply(Func<System.Runtime.Intrinsics.Vector512<float>, System.Runtime.Intrinsics.Vector512<float>> f, float[] x)
    {
        var y = new float[x.Length];
        fixed (float* px = x, py = y)
            for (int i = 0; i < x.Length; i += 16)
                SharpCtr.Tensors.Kernels.VectorMath.StorePartial(f(SharpCtr.Tensors.Kernels.VectorMath.LoadPartial(px + i, x.Length - i)), py + i, x.Length - i);
        return y;
    }

    [Fact]
    public void ExpIsAccurateOverTheWholeFloatRange()
    {
        var xs = new List<float>();
        for (float v = -110f; v <= 95f; v += 0.37f) xs.Add(v);
        xs.AddRange([0f, -0f, 1e-8f, -1e-8f, 88.7f, 88.8f, -87.5f, -103f, float.PositiveInfinity, float.NegativeInfinity]);
        var x = xs.ToArray();
        var y = Apply(SharpCtr.Tensors.Kernels.VectorMath.Exp, x);
        for (int i = 0; i < x.Length; i++)
        {
            double e = Math.Exp(x[i]);
            float ef = (float)e;
            if (float.IsInfinity(ef) || ef == 0f || !float.IsNormal(ef))
            {
                Assert.True(Math.Abs(ef - y[i]) <= 1e-44 || (float.IsInfinity(ef) && float.IsPositiveInfinity(y[i])), $"exp({x[i]}) = {y[i]}, expected {ef}");
                continue;
            }
            Assert.True(Math.Abs(y[i] - e) <= 3e-7 * e, $"exp({x[i]}) = {y[i]}, expected {e}");
        }
    }

    [Fact]
    public void Exp2IsAccurateOverItsRange()
    {
        var xs = new List<float>();
        for (float v = -126f; v <= 126f; v += 0.113f) xs.Add(v);
        xs.AddRange([0f, 0.5f, -0.5f, 0.49999997f, 1e-8f, -1e-8f, 126f, -126f, 125.5f]);
        var x = xs.ToArray();
        var y = Apply(SharpCtr.Tensors.Kernels.VectorMath.Exp2InRange, x);
        for (int i = 0; i < x.Length; i++)
        {
            double e = Math.Pow(2, x[i]);
            Assert.True(Math.Abs(y[i] - e) <= 3e-7 * e, $"2^{x[i]} = {y[i]}, expected {e}");
        }
    }

    /// <summary>The ragged-tail load and store (masked instructions, whichever this CPU has): the
    /// first count lanes read, the rest the fill; nothing past count read into or written.</summary>
    [Fact]
    public unsafe void PartialLoadAndStoreTouchOnlyTheirLanes()
    {
        for (int count = 0; count <= 16; count++)
        {
            var src = Enumerable.Range(1, 32).Select(i => (float)i).ToArray();
            var dst = Enumerable.Repeat(-7f, 32).ToArray();
            fixed (float* ps = src, pd = dst)
            {
                var v = SharpCtr.Tensors.Kernels.VectorMath.LoadPartial(ps, count, 0.5f);
                for (int i = 0; i < 16; i++) Assert.Equal(i < count ? src[i] : 0.5f, v[i]);
                SharpCtr.Tensors.Kernels.VectorMath.StorePartial(v, pd, count);
            }
            for (int i = 0; i < 32; i++) Assert.Equal(i < count ? src[i] : -7f, dst[i]);
        }
    }

    /// <summary>Exp's 2^n step on CPUs without vscalefps: p·2^n rounded once, as the double
    /// product rounded to float is, through the subnormals and into +∞; and where the CPU has
    /// AVX-512, the same bits as vscalefps.</summary>
    [Fact]
    public void ScaleWithoutAvx512RoundsOnceLikeVscalef()
    {
        var rng = new Random(5);
        for (int n = -150; n <= 128; n++)
        {
            var p = new float[16];
            for (int i = 0; i < 16; i++) p[i] = 0.70710677f + (float)rng.NextDouble() * 0.7071068f;
            p[0] = 1f;
            var pv = System.Runtime.Intrinsics.Vector512.Create(p);
            var nv = System.Runtime.Intrinsics.Vector512.Create((float)n);
            var y = SharpCtr.Tensors.Kernels.VectorMath.ScaleWithoutAvx512(pv, nv);
            for (int i = 0; i < 16; i++)
                Assert.True(y[i].Equals((float)(p[i] * Math.Pow(2, n))), $"{p[i]}·2^{n} = {y[i]}, expected {(float)(p[i] * Math.Pow(2, n))}");
            if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
                Assert.Equal(System.Runtime.Intrinsics.X86.Avx512F.Scale(pv, nv), y);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(37)]
    public void ExpShiftedInPlaceMatchesDoublesIncludingMaskedAndFarBelowMaxValues(int length)
    {
        // a softmax row: scores around the shift, some far below it (underflow to 0), masked ones at −∞
        var rng = new Random(length);
        var x = new float[length];
        for (int i = 0; i < length; i++)
            x[i] = (i % 5) switch { 0 => float.NegativeInfinity, 1 => -150f + (float)rng.NextDouble(), _ => 3f * (float)rng.NextDouble() - 4f };
        x[^1] = 2.5f;                                    // the maximum: the shift
        var y = (float[])x.Clone();
        float sum = SharpCtr.Tensors.Kernels.VectorMath.ExpShiftedInPlace(y, 2.5f);
        double expected = 0;
        for (int i = 0; i < length; i++)
        {
            double e = Math.Exp((double)x[i] - 2.5);
            expected += e;
            if (e < 1e-37) Assert.True(y[i] == 0f || y[i] < 1e-37f, $"e^({x[i]} − 2.5) = {y[i]}, expected ~{e}");
            else Assert.True(Math.Abs(y[i] - e) <= 3e-7 * e, $"e^({x[i]} − 2.5) = {y[i]}, expected {e}");
        }
        Assert.True(Math.Abs(sum - expected) <= 1e-6 * expected, $"sum {sum}, expected {expected}");
        Assert.All(x.Select((v, i) => (v, i)).Where(p => float.IsNegativeInfinity(p.v)), p => Assert.Equal(0f, y[p.i]));
    }

    [Fact]
    public void ExpAndClampKeepNaN()
    {
        var nan = System.Runtime.Intrinsics.Vector512.Create(float.NaN);
        var lo = System.Runtime.Intrinsics.Vector512.Create(-1f);
        var hi = System.Runtime.Intrinsics.Vector512.Create(1f);
        Assert.True(float.IsNaN(SharpCtr.Tensors.Kernels.VectorMath.Exp(nan).GetElement(3)));
        Assert.True(float.IsNaN(SharpCtr.Tensors.Kernels.VectorMath.Clamp(nan, lo, hi).GetElement(0)));
        var x = System.Runtime.Intrinsics.Vector512.Create(-5f, -1f, -0.5f, 0f, 0.5f, 1f, 5f, -2f, 2f, 0.99f, -0.99f, 1e-3f, -1e-3f, 3f, -3f, 0.25f);
        var c = SharpCtr.Tensors.Kernels.VectorMath.Clamp(x, lo, hi);
        for (int i = 0; i < 16; i++) Assert.Equal(Math.Clamp(x.GetElement(i), -1f, 1f), c.GetElement(i));
    }

    [Fact]
    public void ReciprocalIsAccurateToFloatPrecision()
    {
        var rng = new Random(5);
        for (int t = 0; t < 2000; t++)
        {
            var d = new float[16];
            for (int i = 0; i < 16; i++) d[i] = (float)Math.Exp(rng.NextDouble() * 80 - 40) * (rng.Next(2) == 0 ? 1 : -1);
            var r = SharpCtr.Tensors.Kernels.VectorMath.Reciprocal(System.Runtime.Intrinsics.Vector512.Create(d));
            for (int i = 0; i < 16; i++)
            {
                double exact = 1.0 / d[i];
                Assert.True(Math.Abs(r.GetElement(i) - exact) <= 2.5e-7 * Math.Abs(exact), $"1/{d[i]} = {r.GetElement(i)}, expected {exact}");
            }
        }
    }
}
