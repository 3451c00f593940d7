using SharpCtr.Tensors.Kernels;
using static SharpCtr.Tensors.Tests.Kernels.KernelTestUtil;

namespace SharpCtr.Tensors.Tests.Kernels;

[Collection("KernelSettings")]
public class SparseAndOptimizerKernelTests
{
    [Theory]
    [InlineData(3, 5, 1, true)]
    [InlineData(4, 7, 17, false)]
    [InlineData(2, 50, 16, true)]
    public void PoolingMatchesReference(int batch, int maxLen, int dim, bool mean)
    {
        var rng = new Random(batch + maxLen + dim);
        var x = Random(rng, batch * maxLen * dim);
        var lengths = new int[batch];
        for (int b = 0; b < batch; b++) lengths[b] = b == 0 ? 0 : rng.Next(1, maxLen + 1);
        var y = new float[batch * dim];
        SequencePooling.Forward(x, lengths, batch, maxLen, dim, mean, y);
        var yRef = new double[batch * dim];
        for (int b = 0; b < batch; b++)
            for (int d = 0; d < dim; d++)
            {
                double s = 0;
                for (int l = 0; l < lengths[b]; l++) s += x[(b * maxLen + l) * dim + d];
                yRef[b * dim + d] = mean && lengths[b] > 0 ? s / lengths[b] : s;
            }
        AssertClose(yRef, y, 1e-5, 1e-5, "pool forward");

        var dy = Random(rng, batch * dim);
        var dx = new float[x.Length];
        dx[0] = 1f; // backward adds
        SequencePooling.Backward(dy, lengths, batch, maxLen, dim, mean, dx);
        for (int b = 0; b < batch; b++)
            for (int l = 0; l < maxLen; l++)
                for (int d = 0; d < dim; d++)
                {
                    int i = (b * maxLen + l) * dim + d;
                    double expected = (i == 0 ? 1 : 0) + (l < lengths[b] ? dy[b * dim + d] / (mean ? lengths[b] : 1) : 0);
                    Assert.True(Math.Abs(expected - dx[i]) < 1e-6, $"pool backward b={b} l={l} d={d}");
                }
        Assert.Throws<ArgumentOutOfRangeException>(() => SequencePooling.Forward(x, new[] { maxLen + 1, 0, 0, 0 }[..batch], batch, maxLen, dim, mean, y));
    }

    [Fact]
    public void EmbeddingGatherAndSparseScatter()
    {
        var rng = new Random(4);
        int vocab = 10, dim = 3;
        var table = Random(rng, vocab * dim);
        int[] ids = [4, 0, 4, 9, 2, 0];
        var output = new float[ids.Length * dim];
        Embedding.Gather(table, vocab, dim, ids, output);
        for (int i = 0; i < ids.Length; i++)
            Assert.Equal(table.AsSpan(ids[i] * dim, dim).ToArray(), output.AsSpan(i * dim, dim).ToArray());

        var dy = Random(rng, ids.Length * dim);
        var grad = new float[vocab * dim];
        var touched = new bool[vocab];
        var rows = new List<int>();
        Embedding.ScatterAddRows(dy, ids, vocab, dim, grad, touched, rows, paddingIndex: 2);
        Assert.Equal(new[] { 4, 0, 9 }, rows); // first-touch order, unique, padding skipped
        var expected = new double[vocab * dim];
        for (int i = 0; i < ids.Length; i++)
            if (ids[i] != 2)
                for (int d = 0; d < dim; d++) expected[ids[i] * dim + d] += dy[i * dim + d];
        AssertClose(expected, grad, 1e-6, 0, "scatter-add");

        Embedding.ClearTouchedRows(grad, dim, touched, rows);
        Assert.All(grad, v => Assert.Equal(0f, v));
        Assert.All(touched, Assert.False);
        Assert.Empty(rows);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Embedding.Gather(table, vocab, dim, [1, 10], new float[2 * dim]));
        Assert.Contains("ids[1] = 10", ex.Message);
    }

    private static void AdamReference(double[] p, float[] g, double[] m, double[] v, AdamSettings s, int step)
    {
        for (int i = 0; i < p.Length; i++)
        {
            double grad = g[i];
            if (s.Decoupled) p[i] *= 1 - (double)s.LearningRate * s.WeightDecay;
            else grad += s.WeightDecay * p[i];
            m[i] = s.Beta1 * m[i] + (1 - (double)s.Beta1) * grad;
            v[i] = s.Beta2 * v[i] + (1 - (double)s.Beta2) * grad * grad;
            double bc1 = 1 - Math.Pow(s.Beta1, step), bc2 = 1 - Math.Pow(s.Beta2, step);
            p[i] -= s.LearningRate / bc1 * m[i] / (Math.Sqrt(v[i]) / Math.Sqrt(bc2) + s.Eps);
        }
    }

    [Theory]
    [InlineData(false, 0f)]
    [InlineData(false, 0.01f)]
    [InlineData(true, 0.01f)]
    public void AdamMatchesReferenceOverSteps(bool decoupled, float wd)
    {
        var rng = new Random(5);
        int n = 16 * 1024 + 37; // more than one chunk, ragged tail
        var p = Random(rng, n);
        var pd = Array.ConvertAll(p, x => (double)x);
        var m = new float[n]; var v = new float[n];
        var md = new double[n]; var vd = new double[n];
        var s = new AdamSettings(1e-2f, WeightDecay: wd, Decoupled: decoupled);
        for (int step = 1; step <= 5; step++)
        {
            var g = Random(rng, n);
            Adam.Step(p, g, m, v, s, step);
            AdamReference(pd, g, md, vd, s, step);
        }
        AssertClose(pd, p, 1e-5, 1e-5, "adam params");
        AssertClose(vd, v, 1e-6, 1e-4, "adam v");
    }

    [Fact]
    public void AdamRowsMovesOnlyListedRows()
    {
        var rng = new Random(6);
        int rows = 6, dim = 17;
        var p = Random(rng, rows * dim);
        var before = (float[])p.Clone();
        var g = Random(rng, rows * dim);
        var m = new float[p.Length]; var v = new float[p.Length];
        var s = new AdamSettings(0.1f);
        Adam.StepRows(p, g, m, v, dim, [1, 4], s, 1);
        var full = (float[])before.Clone();
        var m2 = new float[p.Length]; var v2 = new float[p.Length];
        Adam.Step(full, g, m2, v2, s, 1);
        for (int r = 0; r < rows; r++)
            for (int d = 0; d < dim; d++)
            {
                int i = r * dim + d;
                Assert.Equal(r is 1 or 4 ? full[i] : before[i], p[i]);
            }
    }

    [Fact]
    public void AdamIsBitIdenticalForOneAndTwoThreads()
    {
        var rng = new Random(8);
        int n = 140_000;
        var p0 = Random(rng, n);
        var g = Random(rng, n);
        float[] Run(int t)
        {
            var p = (float[])p0.Clone(); var m = new float[n]; var v = new float[n];
            WithThreads(t, () => Adam.Step(p, g, m, v, new AdamSettings(1e-3f), 1));
            return p;
        }
        AssertBitIdentical(Run(1), Run(2), "adam");
    }

    [Fact]
    public void BceWithLogitsIsStableAndMatchesReference()
    {
        float[] x = [-200f, -3f, -0.5f, 0f, 0.5f, 3f, 200f, 17f, -17f, 1f, 2f, -2f, 5f, -5f, 0.1f, -0.1f, 40f, -40f];
        var t = new float[x.Length];
        for (int i = 0; i < t.Length; i++) t[i] = i % 3 == 0 ? 1f : i % 3 == 1 ? 0f : 0.3f;
        double expected = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double p = 1 / (1 + Math.Exp(-(double)x[i]));
            // log σ(x) and log(1−σ(x)) written stably for the reference too
            double logP = -Math.Log(1 + Math.Exp(-Math.Abs(x[i]))) + Math.Min(x[i], 0);
            double log1mP = -Math.Log(1 + Math.Exp(-Math.Abs(x[i]))) - Math.Max(x[i], 0);
            expected += -(t[i] * logP + (1 - t[i]) * log1mP);
            _ = p;
        }
        double got = BceWithLogits.ForwardSum(x, t);
        Assert.True(Math.Abs(expected - got) < 1e-4, $"{expected} vs {got}");

        var d = new float[x.Length];
        BceWithLogits.Backward(x, t, 0.5f, d);
        for (int i = 0; i < x.Length; i++)
        {
            double e = 0.5 * (1 / (1 + Math.Exp(-(double)x[i])) - t[i]);
            Assert.True(Math.Abs(e - d[i]) < 1e-6, $"bce grad [{i}] {e} vs {d[i]}");
        }
    }

    [Fact]
    public void ElementwiseAddIsExactAndThreadIndependent()
    {
        var rng = new Random(9);
        int n = 100_003;
        var a = Random(rng, n); var b = Random(rng, n);
        var y1 = new float[n]; var y2 = new float[n];
        WithThreads(1, () => Elementwise.Add(a, b, y1));
        WithThreads(2, () => Elementwise.Add(a, b, y2));
        for (int i = 0; i < n; i++) Assert.Equal(a[i] + b[i], y1[i]);
        AssertBitIdentical(y1, y2, "add");
    }
}
