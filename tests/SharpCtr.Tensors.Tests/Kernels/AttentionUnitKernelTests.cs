using SharpCtr.Tensors.Kernels;
using static SharpCtr.Tensors.Tests.Kernels.KernelTestUtil;
using Act = SharpCtr.Tensors.Kernels.InferenceActivation;
using Layer = SharpCtr.Tensors.Kernels.InferenceLayer;

namespace SharpCtr.Tensors.Tests.Kernels;

/// <summary>The fused activation unit against the same arithmetic written as plain loops in double.</summary>
[Collection("KernelSettings")]
public class AttentionUnitKernelTests
{
    static Layer MakeLayer(Random rng, int inDim, int outDim, Act act, bool bias) => RandomLayer(rng, inDim, outDim, act, bias);

    static double[] Reference(float[] keys, int[]? rowKey, float[] query, int[] rowSample, int k, float[] keyPart, float[] queryPart,
        Layer first, Layer[] hidden, float[] w, float b, int n)
    {
        var scores = new double[n];
        for (int r = 0; r < n; r++)
        {
            int kr = rowKey?[r] ?? r, s = rowSample[r];
            var h = new double[first.Out];
            for (int j = 0; j < first.Out; j++)
            {
                double v = keyPart[kr * first.Out + j] + queryPart[s * first.Out + j];
                for (int p = 0; p < k; p++) v += (double)keys[kr * k + p] * query[s * k + p] * first.Weight[p * first.Out + j];
                h[j] = ReferenceActivation(first, j, v);
            }
            foreach (var l in hidden)
                h = ReferenceLayer(l, h);
            double score = b;
            for (int j = 0; j < h.Length; j++) score += h[j] * w[j];
            scores[r] = score;
        }
        return scores;
    }

    [Theory]
    [InlineData(32, 64, 32, Act.Dice, true, 77)]      // DIN's default widths; shared history; ragged last tile
    [InlineData(32, 64, 32, Act.Dice, false, 64)]
    [InlineData(20, 48, 16, Act.PRelu, true, 5)]      // k not a multiple of 16; widths not multiples of 64
    [InlineData(16, 128, 64, Act.Relu, false, 33)]
    [InlineData(8, 16, 16, Act.Identity, true, 1)]
    [InlineData(32, 64, 96, Act.Dice, true, 70)]      // 96 = one 64-column block + one 32-column block
    [InlineData(32, 64, 32, Act.Dice, true, 77, 300f)] // pre-activations of ±hundreds: Dice's sigmoid saturates without NaN
    public void MatchesPlainLoops(int k, int h1, int h2, Act act, bool shared, int n, float partScale = 0.5f)
    {
        var rng = new Random(k * 1000 + h1 + n);
        int users = shared ? 7 : n, samples = 9;
        var keys = Random(rng, users * k);
        var query = Random(rng, samples * k);
        int[]? rowKey = shared ? Enumerable.Range(0, n).Select(_ => rng.Next(users)).ToArray() : null;
        var rowSample = Enumerable.Range(0, n).Select(_ => rng.Next(samples)).ToArray();
        var keyPart = Random(rng, users * h1, partScale);
        var queryPart = Random(rng, samples * h1, partScale);
        var first = MakeLayer(rng, k, h1, act, bias: false);
        Layer[] hidden = [MakeLayer(rng, h1, h2, act, bias: true)];
        var w = Random(rng, h2);
        var scores = new float[n];
        AttentionUnitKernel.Scores(keys, rowKey, query, rowSample, k, keyPart, queryPart, first, hidden, w, 0.25f, n, scores);
        AssertClose(Reference(keys, rowKey, query, rowSample, k, keyPart, queryPart, first, hidden, w, 0.25f, n), scores, 1e-4, 1e-4, $"{act} k={k}");
    }

    [Fact]
    public void TwoThreadsGiveTheSameBitsAsOne()
    {
        // Large enough (a 100-candidate × 50-item request) for the kernel to split its tiles.
        var rng = new Random(5);
        const int k = 32, h1 = 64, h2 = 32, users = 50, samples = 100, n = users * samples;
        var keys = Random(rng, users * k);
        var query = Random(rng, samples * k);
        var rowKey = Enumerable.Range(0, n).Select(r => r % users).ToArray();
        var rowSample = Enumerable.Range(0, n).Select(r => r / users).ToArray();
        var keyPart = Random(rng, users * h1, 0.5f);
        var queryPart = Random(rng, samples * h1, 0.5f);
        var first = MakeLayer(rng, k, h1, Act.Dice, bias: false);
        Layer[] hidden = [MakeLayer(rng, h1, h2, Act.Dice, bias: true)];
        var w = Random(rng, h2);
        float[] one = new float[n], two = new float[n];
        int saved = KernelThreads.Max;
        try
        {
            KernelThreads.Max = 1;
            AttentionUnitKernel.Scores(keys, rowKey, query, rowSample, k, keyPart, queryPart, first, hidden, w, 0f, n, one);
            KernelThreads.Max = 2;
            AttentionUnitKernel.Scores(keys, rowKey, query, rowSample, k, keyPart, queryPart, first, hidden, w, 0f, n, two);
        }
        finally { KernelThreads.Max = saved; }
        Assert.Equal(one, two);

        // The per-thread allowance (what the service gives a lone request) splits the same way.
        var allowed = new float[n];
        try
        {
            KernelThreads.Max = 1;
            using (KernelThreads.Allow(2))
            {
                Assert.Equal(2, KernelThreads.ForThisThread);
                int other = 0;
                var thread = new Thread(() => other = KernelThreads.ForThisThread);
                thread.Start();
                thread.Join();
                Assert.Equal(1, other);   // other threads keep Max
                AttentionUnitKernel.Scores(keys, rowKey, query, rowSample, k, keyPart, queryPart, first, hidden, w, 0f, n, allowed);
            }
            Assert.Equal(1, KernelThreads.ForThisThread);
        }
        finally { KernelThreads.Max = saved; }
        Assert.Equal(one, allowed);
    }

    [Fact]
    public void RejectsWidthsItCannotTile()
    {
        var rng = new Random(1);
        var first = MakeLayer(rng, 4, 20, Act.Relu, bias: false);
        Assert.False(AttentionUnitKernel.Supports(20, []));
        Assert.Throws<ArgumentException>(() => AttentionUnitKernel.Scores(new float[4], null, new float[4], [0], 4,
            new float[20], new float[20], first, [], new float[20], 0, 1, new float[1]));
    }
}
