using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors.Tests.Kernels;

/// <summary>Seeded random data and comparisons shared by the kernel tests.</summary>
internal static class KernelTestUtil
{
    /// <summary>A dense layer in inference form with random weights, bias and activation statistics.</summary>
    public static InferenceLayer RandomLayer(Random rng, int inDim, int outDim, InferenceActivation act, bool bias = true, float weightScale = 0.5f) => new(
        Random(rng, inDim * outDim, weightScale), bias ? Random(rng, outDim, 0.2f) : null, inDim, outDim, act,
        Random(rng, outDim, 0.5f), Random(rng, outDim, 0.3f), Array.ConvertAll(Random(rng, outDim), v => 0.5f + Math.Abs(v)));

    /// <summary>The layer's activation of pre-activation v in column j, in double (the plain reference).</summary>
    public static double ReferenceActivation(InferenceLayer l, int j, double v) => l.Act switch
    {
        InferenceActivation.Identity => v,
        InferenceActivation.Relu => Math.Max(v, 0),
        InferenceActivation.PRelu => v > 0 ? v : l.Alpha![j] * v,
        InferenceActivation.Dice => v * (l.Alpha![j] + (1 - l.Alpha[j]) / (1 + Math.Exp(-(v - l.Mean![j]) * l.InvStd![j]))),
        _ => throw new ArgumentOutOfRangeException(nameof(l)),
    };

    /// <summary>The layer applied to one input row in double: bias + h·W, then the activation (the plain reference).</summary>
    public static double[] ReferenceLayer(InferenceLayer l, double[] h)
    {
        var next = new double[l.Out];
        for (int j = 0; j < l.Out; j++)
        {
            double v = l.Bias?[j] ?? 0;
            for (int p = 0; p < l.In; p++) v += h[p] * l.Weight[p * l.Out + j];
            next[j] = ReferenceActivation(l, j, v);
        }
        return next;
    }

    public static float[] Random(Random rng, int n, float scale = 1f)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return x;
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) || double.IsNaN(a) || Math.Abs(e - a) > atol + rtol * Math.Abs(e))
                Assert.Fail($"{what}: index {i} expected {e:R} got {a:R}");
        }
    }

    public static void AssertClose(double[] expected, ReadOnlySpan<float> actual, double atol, double rtol, string what)
    {
        var e = new float[expected.Length];
        for (int i = 0; i < e.Length; i++) e[i] = (float)expected[i];
        AssertClose(e, actual, atol, rtol, what);
    }

    public static void AssertBitIdentical(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: index {i} differs: {expected[i]:R} vs {actual[i]:R}");
    }

    /// <summary>Runs <paramref name="body"/> with the kernels limited to <paramref name="threads"/>,
    /// and with the parallel threshold lowered so small test shapes really use both threads.</summary>
    public static void WithThreads(int threads, Action body)
    {
        int saved = SharpCtr.Tensors.Kernels.KernelThreads.Max;
        int savedMin = SharpCtr.Tensors.Kernels.KernelThreads.MinParallelElements;
        long savedGemm = SharpCtr.Tensors.Kernels.Gemm.ParallelMinMacs;
        try
        {
            SharpCtr.Tensors.Kernels.KernelThreads.Max = threads;
            SharpCtr.Tensors.Kernels.KernelThreads.MinParallelElements = 1;
            SharpCtr.Tensors.Kernels.Gemm.ParallelMinMacs = 1;
            body();
        }
        finally
        {
            SharpCtr.Tensors.Kernels.KernelThreads.Max = saved;
            SharpCtr.Tensors.Kernels.KernelThreads.MinParallelElements = savedMin;
            SharpCtr.Tensors.Kernels.Gemm.ParallelMinMacs = savedGemm;
        }
    }
}

/// <summary>Tests that change the kernels' global settings (threads, backend) must not run in
/// parallel with each other.</summary>
[CollectionDefinition("KernelSettings", DisableParallelization = true)]
public sealed class KernelSettingsCollection { }
