using SharpCtr.Data.Synthetic;

namespace SharpCtr.Data.Tests.Synthetic;

/// <summary>The shipped configs (at a smaller user count) produce the statistics they promise.</summary>
public class StatisticsTests
{
    static SyntheticLogStats Stats(string level) =>
        SyntheticLogStats.Compute(SearchLogGenerator.Generate(SyntheticTestConfigs.Shipped(level, users: 300)));

    [Fact]
    public void Clean_has_no_noise_and_clicks_follow_the_intent()
    {
        var s = Stats("clean");
        Assert.Equal(0, s.NoisyClicks);
        Assert.InRange(s.Ctr, 0.10, 0.18);
        Assert.True(s.IntentClickShare > 0.7, $"intent share {s.IntentClickShare}");
    }

    [Fact]
    public void Noise_rate_and_ctr_rise_from_moderate_to_heavy()
    {
        var moderate = Stats("moderate");
        var heavy = Stats("heavy");
        Assert.InRange(moderate.NoiseRate, 0.12, 0.28);
        Assert.InRange(heavy.NoiseRate, 0.30, 0.45);
        Assert.InRange(moderate.Ctr, 0.12, 0.22);
        Assert.InRange(heavy.Ctr, 0.16, 0.28);
        Assert.True(moderate.AccidentalClicks > 0 && moderate.CrossCategoryClicks > 0);
        Assert.True(heavy.IntentClickShare < moderate.IntentClickShare);
    }

    [Fact]
    public void Shipped_size_and_shape()
    {
        var options = SyntheticTestConfigs.Shipped("moderate", users: 300);
        var s = Stats("moderate");
        Assert.InRange(s.ShownPerRequest, options.MinShown, options.MaxShown);
        // Interest shifts happen on about shift_probability of the later sessions.
        Assert.InRange((double)s.ShiftedRequests / s.Requests, 0.1, 0.4);
        // The full config (2000 users) lands in the ~100k–300k impressions range: 300 users give
        // about 3/20 of that.
        Assert.InRange(s.Impressions * 2000.0 / 300, 100_000, 300_000);
    }

    [Fact]
    public void Position_bias_lowers_ctr_down_the_list()
    {
        var log = SearchLogGenerator.Generate(SyntheticTestConfigs.Shipped("clean", users: 300));
        long topShown = 0, topClicks = 0, lowShown = 0, lowClicks = 0;
        foreach (var r in log.Requests)
            for (var i = 0; i < r.Items.Length; i++)
            {
                if (i < 3) { topShown++; if (r.Clicked[i]) topClicks++; }
                else if (i >= 9) { lowShown++; if (r.Clicked[i]) lowClicks++; }
            }
        Assert.True((double)topClicks / topShown > 2.0 * lowClicks / lowShown);
    }

    [Fact]
    public void Context_moves_the_intent()
    {
        // Same seed, context pull switched off: up to a user's first intent draw the random
        // streams agree, so the first request's intent weights differ only by the context pull.
        var with = SearchLogGenerator.Generate(SyntheticTestConfigs.Tiny());
        var without = SyntheticTestConfigs.Tiny();
        without.HourStrength = without.WeekendStrength = without.DeviceStrength = without.SourceStrength = 0;
        var flat = SearchLogGenerator.Generate(without);
        var first = FirstRequests(with);
        var flatFirst = FirstRequests(flat);
        var differentWeights = 0;
        for (var u = 0; u < first.Length; u++)
        {
            Assert.Equal(first[u].Timestamp, flatFirst[u].Timestamp);
            if (first[u].IntentLeaves.Length > 1 && !first[u].IntentWeights.AsSpan().SequenceEqual(flatFirst[u].IntentWeights))
                differentWeights++;
        }
        Assert.True(differentWeights > first.Length / 2, $"{differentWeights} of {first.Length}");
    }

    static SyntheticRequest[] FirstRequests(SyntheticSearchLog log)
    {
        var first = new SyntheticRequest[log.Users];
        foreach (var r in log.Requests) if (r.UserSequence == 0) first[r.User] = r;
        return first;
    }
}
