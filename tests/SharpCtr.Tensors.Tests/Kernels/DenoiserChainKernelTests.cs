using SharpCtr.Tensors.Kernels;
using static SharpCtr.Tensors.Tests.Kernels.KernelTestUtil;

namespace SharpCtr.Tensors.Tests.Kernels;

/// <summary>The fused reverse chain against plain double loops of the same steps, and 1 vs 2 threads.</summary>
[Collection("KernelSettings")]
public class DenoiserChainKernelTests
{
    static double[] Reference(float[] x0, int n, float[]? cond, float[] steps, float[] cx, float[] ce, InferenceLayer first, InferenceLayer[] hidden, InferenceLayer output)
    {
        int d = first.In, h = first.Out;
        var result = new double[n * d];
        for (int r = 0; r < n; r++)
        {
            var x = new double[d];
            for (int j = 0; j < d; j++) x[j] = x0[r * d + j];
            for (int k = 0; k < cx.Length; k++)
            {
                var a = new double[h];
                for (int o = 0; o < h; o++)
                {
                    double s = first.Bias?[o] ?? 0;
                    for (int p = 0; p < d; p++) s += x[p] * first.Weight[p * h + o];
                    s += steps[k * h + o] + (cond?[r * h + o] ?? 0);
                    a[o] = Math.Max(s, 0);
                }
                foreach (var l in hidden) a = ReferenceLayer(l, a);
                var eps = ReferenceLayer(output, a);
                for (int j = 0; j < d; j++) x[j] = cx[k] * x[j] - ce[k] * eps[j];
            }
            Array.Copy(x, 0, result, r * d, d);
        }
        return result;
    }

    [Theory]
    [InlineData(100, 32, true, true)]    // a request: 5 tiles, the last one of 4 rows
    [InlineData(7, 16, false, true)]     // one tile with padding rows; no condition
    [InlineData(50, 16, true, false)]    // no biases: a tile boundary inside the rows
    public void MatchesPlainLoopsAndIsTheSameOnOneOrTwoThreads(int n, int d, bool condition, bool bias)
    {
        var rng = new Random(n * 7 + d);
        int h = 64, k = 20;
        var first = RandomLayer(rng, d, h, InferenceActivation.Identity, bias, weightScale: 0.3f);
        var hidden = new[] { RandomLayer(rng, h, 48, InferenceActivation.Relu, bias, weightScale: 0.2f) };
        var output = RandomLayer(rng, 48, d, InferenceActivation.Identity, bias, weightScale: 0.2f);
        var x0 = Random(rng, n * d);
        var cond = condition ? Random(rng, n * h, 0.5f) : null;
        var steps = Random(rng, k * h, 0.5f);
        var cx = Enumerable.Range(0, k).Select(i => 1.01f + 0.001f * i).ToArray();
        var ce = Enumerable.Range(0, k).Select(i => 0.05f + 0.002f * i).ToArray();
        Assert.True(DenoiserChainKernel.Supports(first, hidden, output));

        var one = (float[])x0.Clone();
        var two = (float[])x0.Clone();
        int saved = KernelThreads.Max;
        try
        {
            KernelThreads.Max = 1;
            DenoiserChainKernel.Run(one, n, cond, steps, cx, ce, first, hidden, output);
            KernelThreads.Max = 2;
            DenoiserChainKernel.Run(two, n, cond, steps, cx, ce, first, hidden, output);
        }
        finally { KernelThreads.Max = saved; }
        Assert.Equal(one, two);
        AssertClose(Reference(x0, n, cond, steps, cx, ce, first, hidden, output), one, 1e-4, 1e-4, $"n={n} d={d}");
    }

    [Fact]
    public void RefusesWhatItDoesNotCover()
    {
        var rng = new Random(1);
        var first = RandomLayer(rng, 16, 64, InferenceActivation.Identity);
        var relu = RandomLayer(rng, 64, 64, InferenceActivation.Relu);
        Assert.False(DenoiserChainKernel.Supports(first, [RandomLayer(rng, 64, 64, InferenceActivation.Dice)], RandomLayer(rng, 64, 16, InferenceActivation.Identity)));
        Assert.False(DenoiserChainKernel.Supports(first, [relu], RandomLayer(rng, 64, 32, InferenceActivation.Identity)));   // output narrower/wider than the input
        Assert.False(DenoiserChainKernel.Supports(RandomLayer(rng, 16, 40, InferenceActivation.Identity), [], RandomLayer(rng, 40, 16, InferenceActivation.Identity)));
        Assert.Throws<ArgumentException>(() => DenoiserChainKernel.Run(new float[16], 1, null, new float[64], [1f], [0.1f, 0.2f], first, [relu], RandomLayer(rng, 64, 16, InferenceActivation.Identity)));
    }
}
