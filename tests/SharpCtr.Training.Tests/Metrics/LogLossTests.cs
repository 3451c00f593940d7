using SharpCtr.Training.Metrics;

namespace SharpCtr.Training.Tests.Metrics;

public class LogLossTests
{
    [Fact]
    public void Hand_computed()
    {
        // −(ln 0.8 + ln(1 − 0.4)) / 2 = −(−0.2231436 − 0.5108256) / 2 = 0.3669846
        Assert.Equal(0.36698458, LogLoss.FromProbabilities(new float[] { 0.8f, 0.4f }, new float[] { 1, 0 }), 1e-6);
    }

    [Fact]
    public void Certain_mistakes_are_clipped_at_1e_minus_7()
    {
        // p = 0 for a positive and p = 1 for a negative each cost −ln(1e-7) = 16.118096.
        double loss = LogLoss.FromProbabilities(new float[] { 0f, 1f }, new float[] { 1, 0 });
        Assert.Equal(-Math.Log(1e-7), loss, 1e-9);
    }

    [Fact]
    public void Logits_match_probabilities()
    {
        float[] z = [-3f, -0.2f, 0f, 1.7f, 5f];
        float[] y = [0, 1, 0, 1, 1];
        var p = new float[z.Length];
        for (int i = 0; i < z.Length; i++) p[i] = (float)(1 / (1 + Math.Exp(-z[i])));
        Assert.Equal(LogLoss.FromProbabilities(p, y), LogLoss.FromLogits(z, y), 1e-6);
    }

    [Fact]
    public void Probability_outside_unit_interval_is_an_error()
    {
        var e = Assert.Throws<ArgumentException>(() => LogLoss.FromProbabilities(new float[] { 0.5f, 1.5f }, new float[] { 0, 1 }));
        Assert.Contains("row 1", e.Message);
        Assert.Throws<ArgumentException>(() => LogLoss.FromProbabilities(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty));
    }

    [Fact]
    public void Matches_scikit_learn_log_loss()
    {
        foreach (var c in Fixtures.Load("auc_cases.json").EnumerateArray())
        {
            var s = Fixtures.Floats(c.GetProperty("scores"));
            var y = Fixtures.Floats(c.GetProperty("labels"));
            Assert.Equal(c.GetProperty("logloss").GetDouble(), LogLoss.FromProbabilities(s, y), 1e-10);
        }
    }

    [Fact]
    public void RelaImpr_hand_computed()
    {
        // ((0.80 − 0.5) / (0.75 − 0.5) − 1) · 100 = (1.2 − 1) · 100 = 20 %
        Assert.Equal(20.0, RelaImpr.Percent(0.80, 0.75), 1e-9);
        Assert.Equal(0.0, RelaImpr.Percent(0.75, 0.75), 1e-12);
        Assert.Throws<ArgumentException>(() => RelaImpr.Percent(0.8, 0.5));
    }
}

public class LogLossByteLabelTests
{
    [Fact]
    public void Byte_labels_match_float_labels()
    {
        float[] p = [0.1f, 0.7f, 0.99f, 0.5f];
        Assert.Equal(LogLoss.FromProbabilities(p, new float[] { 0, 1, 1, 0 }), LogLoss.FromProbabilities(p, new byte[] { 0, 1, 1, 0 }));
        Assert.Equal(LogLoss.FromLogits(p, new float[] { 0, 1, 1, 0 }), LogLoss.FromLogits(p, new byte[] { 0, 1, 1, 0 }));
        Assert.Throws<ArgumentException>(() => LogLoss.FromLogits(p, new byte[] { 0, 1, 2, 0 }));
    }
}
