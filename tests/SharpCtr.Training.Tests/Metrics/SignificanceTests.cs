using SharpCtr.Training.Metrics;

namespace SharpCtr.Training.Tests.Metrics;

public class SignificanceTests
{
    [Fact]
    public void Student_t_cdf_matches_scipy()
    {
        foreach (var c in Fixtures.Load("significance_cases.json").GetProperty("t_cdf").EnumerateArray())
        {
            double want = c.GetProperty("cdf").GetDouble();
            double got = StudentT.Cdf(c.GetProperty("t").GetDouble(), c.GetProperty("df").GetDouble());
            Assert.True(Math.Abs(want - got) <= 1e-12 + 1e-10 * Math.Min(want, 1 - want),
                $"t={c.GetProperty("t")} df={c.GetProperty("df")}: scipy {want}, ours {got}");
        }
    }

    [Fact]
    public void Student_t_hand_values()
    {
        // df = 1 is Cauchy: CDF(1) = ½ + atan(1)/π = 0.75. df = 2: CDF(t) = ½ + t / (2√(2 + t²)); t = 2 → ½ + 2/(2√6) = 0.908248.
        Assert.Equal(0.75, StudentT.Cdf(1, 1), 1e-12);
        Assert.Equal(0.5 + 1 / Math.Sqrt(6), StudentT.Cdf(2, 2), 1e-12);
        Assert.Equal(0.5, StudentT.Cdf(0, 7), 1e-12);
    }

    [Fact]
    public void Normal_two_sided_p_matches_scipy()
    {
        foreach (var c in Fixtures.Load("significance_cases.json").GetProperty("normal").EnumerateArray())
        {
            double want = c.GetProperty("two_sided_p").GetDouble();
            double got = Normal.TwoSidedP(c.GetProperty("z").GetDouble());
            Assert.True(Math.Abs(want - got) <= 1e-10 * want + 1e-15, $"z={c.GetProperty("z")}: scipy {want}, ours {got}");
        }
        Assert.Equal(0.975, Normal.Cdf(1.959963984540054), 1e-12);
    }

    [Fact]
    public void LogGamma_hand_values()
    {
        // Γ(5) = 24, Γ(½) = √π
        Assert.Equal(Math.Log(24), SpecialFunctions.LogGamma(5), 1e-12);
        Assert.Equal(0.5 * Math.Log(Math.PI), SpecialFunctions.LogGamma(0.5), 1e-12);
    }

    [Fact]
    public void Paired_t_test_matches_scipy_ttest_rel()
    {
        foreach (var c in Fixtures.Load("significance_cases.json").GetProperty("ttest").EnumerateArray())
        {
            var r = PairedTTest.Compute(Fixtures.Doubles(c.GetProperty("a")), Fixtures.Doubles(c.GetProperty("b")));
            Assert.Equal(c.GetProperty("t").GetDouble(), r.T, 1e-8);
            Assert.Equal(c.GetProperty("p").GetDouble(), r.PValue, 1e-10);
        }
    }

    [Fact]
    public void Paired_t_test_hand_computed()
    {
        // d = 1, 2, 3: mean 2, sd 1, t = 2 / (1/√3) = 3.4641, df 2.
        // df = 2 two-sided p = 1 − t/√(2 + t²) = 1 − 3.4641/√14 = 0.074180
        var r = PairedTTest.Compute(new double[] { 2, 4, 6 }, new double[] { 1, 2, 3 });
        Assert.Equal(2 * Math.Sqrt(3), r.T, 1e-12);
        Assert.Equal(2, r.DegreesOfFreedom);
        Assert.Equal(1 - 2 * Math.Sqrt(3) / Math.Sqrt(14), r.PValue, 1e-12);
        Assert.Throws<ArgumentException>(() => PairedTTest.Compute(new double[] { 1 }, new double[] { 2 }));
    }

    [Fact]
    public void DeLong_matches_slow_reference()
    {
        foreach (var c in Fixtures.Load("delong_cases.json").EnumerateArray())
        {
            var r = DeLong.Compare(Fixtures.Floats(c.GetProperty("scores_a")), Fixtures.Floats(c.GetProperty("scores_b")),
                Fixtures.Floats(c.GetProperty("labels")));
            Assert.Equal(c.GetProperty("auc_a").GetDouble(), r.AucA, 1e-12);
            Assert.Equal(c.GetProperty("auc_b").GetDouble(), r.AucB, 1e-12);
            Assert.Equal(c.GetProperty("se").GetDouble(), r.StandardError, 1e-12);
            Assert.Equal(c.GetProperty("z").GetDouble(), r.Z, 1e-9);
            double p = c.GetProperty("p").GetDouble();
            Assert.True(Math.Abs(p - r.PValue) <= 1e-9 * p + 1e-15, $"p: reference {p}, ours {r.PValue}");
        }
    }

    [Fact]
    public void DeLong_same_model_twice_has_no_difference()
    {
        float[] s = [0.1f, 0.4f, 0.35f, 0.8f, 0.7f, 0.2f];
        float[] y = [0, 0, 1, 1, 1, 0];
        var r = DeLong.Compare(s, s, y);
        Assert.Equal(0, r.Difference);
        Assert.True(double.IsNaN(r.Z));
    }

    [Fact]
    public void MidRanks_average_ties()
    {
        // sorted 1, 2, 2, 2, 5 → ranks 1, 3, 3, 3, 5
        Assert.Equal(new double[] { 3, 1, 5, 3, 3 }, DeLong.MidRanks(new float[] { 2, 1, 5, 2, 2 }));
    }

    [Fact]
    public void Bootstrap_finds_a_planted_difference_and_is_deterministic()
    {
        var rng = new Random(11);
        int n = 4000;
        var y = new float[n];
        var g = new int[n];
        var good = new float[n];
        var noisy = new float[n];
        for (int i = 0; i < n; i++)
        {
            g[i] = i / 20;
            y[i] = rng.NextDouble() < 0.3 ? 1 : 0;
            double signal = y[i] + rng.NextDouble();
            good[i] = (float)(signal + 0.3 * rng.NextDouble());
            noisy[i] = (float)(signal + 3.0 * rng.NextDouble());
        }
        var r = PairedBootstrap.GroupAucDifference(good, noisy, y, g, replicates: 500, seed: 3);
        Assert.Equal(GroupAuc.Gauc(good, y, g) - GroupAuc.Gauc(noisy, y, g), r.Difference, 1e-12);
        Assert.True(r.Difference > 0.05);
        Assert.True(r.Lower95 > 0 && r.Upper95 > r.Lower95);
        Assert.True(r.PValue < 0.01);
        Assert.Equal(r, PairedBootstrap.GroupAucDifference(good, noisy, y, g, replicates: 500, seed: 3));

        var same = PairedBootstrap.GroupAucDifference(good, good, y, g, replicates: 200, seed: 3);
        Assert.Equal(0, same.Difference);
        Assert.Equal(1.0, same.PValue);
    }
}
