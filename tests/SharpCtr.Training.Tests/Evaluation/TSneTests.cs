using SharpCtr.Tensors;
using SharpCtr.Training.Evaluation;

namespace SharpCtr.Training.Tests.Evaluation;

public sealed class TSneTests
{
    static float[] Clusters(int perCluster, int clusters, int dim, ulong seed, out int[] label)
    {
        var rng = new Rng(seed);
        int n = perCluster * clusters;
        var x = new float[n * dim];
        label = new int[n];
        for (int i = 0; i < n; i++)
        {
            label[i] = i % clusters;
            for (int k = 0; k < dim; k++) x[i * dim + k] = (float)((k == label[i] ? 10.0 : 0.0) + rng.NextNormal());
        }
        return x;
    }

    [Fact]
    public void EachRowOfTheAffinitiesHasThePerplexityAskedFor()
    {
        var x = Clusters(20, 3, 5, 1, out _);
        int n = 60;
        var p = TSne.ConditionalAffinities(TSne.SquaredDistances(x, n, 5), n, 12);
        for (int i = 0; i < n; i++)
        {
            double h = 0, sum = 0;
            for (int j = 0; j < n; j++) { sum += p[i * n + j]; if (p[i * n + j] > 0) h -= p[i * n + j] * Math.Log(p[i * n + j]); }
            Assert.Equal(1.0, sum, 1e-9);
            Assert.Equal(0.0, p[i * n + i]);
            Assert.Equal(12.0, Math.Exp(h), 1e-3);
        }
    }

    [Fact]
    public void TheGradientIsTheDerivativeOfTheKlDivergence()
    {
        var x = Clusters(3, 3, 4, 2, out _);
        int n = 9;
        var p = TSne.JointAffinities(TSne.SquaredDistances(x, n, 4), n, 3);
        var rng = new Rng(3);
        var y = new double[n, 2];
        for (int i = 0; i < n; i++) { y[i, 0] = rng.NextNormal(); y[i, 1] = rng.NextNormal(); }
        var grad = new double[n, 2];
        TSne.Gradient(p, y, n, 1, grad);
        const double h = 1e-6;
        for (int i = 0; i < n; i++)
            for (int d = 0; d < 2; d++)
            {
                double keep = y[i, d];
                y[i, d] = keep + h; double up = TSne.KlDivergence(p, y, n);
                y[i, d] = keep - h; double down = TSne.KlDivergence(p, y, n);
                y[i, d] = keep;
                Assert.Equal((up - down) / (2 * h), grad[i, d], 1e-6);
            }
    }

    [Fact]
    public void SeparatedClustersStaySeparatedAndTheSameSeedGivesTheSameLayout()
    {
        var x = Clusters(30, 3, 10, 4, out var label);
        int n = 90;
        var o = new TSne.Options(Perplexity: 10, Seed: 5);
        var y = TSne.Embed(x, n, 10, o);
        int same = 0;
        for (int i = 0; i < n; i++)
        {
            int best = -1; double bestD = double.MaxValue;
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double d = Math.Pow(y[i, 0] - y[j, 0], 2) + Math.Pow(y[i, 1] - y[j, 1], 2);
                if (d < bestD) { bestD = d; best = j; }
            }
            if (label[best] == label[i]) same++;
        }
        Assert.Equal(n, same);
        Assert.Equal(y, TSne.Embed(x, n, 10, o));
        Assert.NotEqual(y, TSne.Embed(x, n, 10, o with { Seed = 6 }));
    }

    [Fact]
    public void TooFewPointsOrTooHighAPerplexityIsAClearError()
    {
        Assert.Contains("at least 4", Assert.Throws<ArgumentException>(() => TSne.Embed(new float[6], 3, 2)).Message);
        Assert.Contains("perplexity", Assert.Throws<ArgumentException>(() => TSne.Embed(new float[20], 10, 2)).Message);
    }
}
