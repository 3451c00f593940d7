using SharpCtr.Training.Evaluation;
using SharpCtr.Training.Metrics;

namespace SharpCtr.Training.Tests.Metrics;

public class UserPairAucTests
{
    [Fact]
    public void Hand_computed_same_and_cross_user_pairs()
    {
        // user 7: pos 0.9, 0.2; neg 0.5.  user 3: pos 0.6; neg 0.6, 0.1, 0.3.  user 5: neg 0.4, 0.8.
        // P = 3, N = 6: 18 pairs. Same-user pairs: user 7 has 2 (0.9 wins, 0.2 loses), user 3 has 3
        // (½ + 1 + 1) → 3.5 / 5 = 0.7. Cross-user pairs (13): 0.9 beats all 5 others' negatives,
        // 0.2 beats 0.1 only, 0.6 beats 0.5 and 0.4 → 8 / 13. AUC = (3.5 + 8) / 18.
        float[] s = [0.9f, 0.2f, 0.5f, 0.6f, 0.6f, 0.1f, 0.3f, 0.4f, 0.8f];
        float[] y = [1, 1, 0, 1, 0, 0, 0, 0, 0];
        int[] u = [7, 7, 7, 3, 3, 3, 3, 5, 5];
        var r = UserPairAuc.Compute(s, y, u);
        Assert.Equal(11.5 / 18, r.Auc, 1e-12);
        Assert.Equal(0.7, r.SameUser, 1e-12);
        Assert.Equal(8.0 / 13, r.CrossUser, 1e-12);
        Assert.Equal(5.0 / 18, r.SameUserShare, 1e-12);
    }

    [Fact]
    public void Matches_counting_every_pair()
    {
        var rng = new Random(11);
        int n = 400;
        var s = new float[n];
        var y = new float[n];
        var u = new int[n];
        for (int i = 0; i < n; i++)
        {
            s[i] = MathF.Round((float)rng.NextDouble(), 1);   // many ties, within and across users
            y[i] = rng.NextDouble() < 0.3 ? 1 : 0;
            u[i] = rng.Next(25);
        }
        double sameWins = 0, same = 0, crossWins = 0, cross = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (y[i] != 1 || y[j] != 0) continue;
                double w = s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
                if (u[i] == u[j]) { sameWins += w; same++; } else { crossWins += w; cross++; }
            }
        var r = UserPairAuc.Compute(s, y, u);
        Assert.Equal(sameWins / same, r.SameUser, 1e-10);
        Assert.Equal(crossWins / cross, r.CrossUser, 1e-10);
        Assert.Equal(same / (same + cross), r.SameUserShare, 1e-12);
        Assert.Equal((sameWins + crossWins) / (same + cross), r.Auc, 1e-12);
    }

    [Fact]
    public void A_per_user_offset_moves_only_the_cross_user_side()
    {
        // Adding a constant per user keeps each user's order (same-user AUC) and changes how users compare.
        var rng = new Random(3);
        int n = 300;
        var s = new float[n];
        var y = new float[n];
        var u = new int[n];
        for (int i = 0; i < n; i++) { u[i] = rng.Next(10); y[i] = rng.Next(2); s[i] = (float)rng.NextDouble() + y[i] * 0.3f; }
        var shifted = new float[n];
        for (int i = 0; i < n; i++) shifted[i] = s[i] + u[i] * 0.7f;
        var a = UserPairAuc.Compute(s, y, u);
        var b = UserPairAuc.Compute(shifted, y, u);
        Assert.Equal(a.SameUser, b.SameUser, 1e-12);
        Assert.NotEqual(a.CrossUser, b.CrossUser, 3);
    }

    [Fact]
    public void One_user_has_no_cross_pairs()
    {
        var r = UserPairAuc.Compute([0.2f, 0.7f, 0.4f], [0f, 1f, 0f], [4, 4, 4]);
        Assert.Equal(1.0, r.SameUser, 1e-12);
        Assert.True(double.IsNaN(r.CrossUser));
        Assert.Equal(1.0, r.SameUserShare, 1e-12);
    }

    [Fact]
    public void The_report_names_a_tested_column_it_does_not_have()
    {
        var e = Assert.Throws<SharpCtr.Data.Config.ConfigException>(() => UserPairReport.Run("no-such-folder", [], "din", "gauc", ".", TextWriter.Null));
        Assert.Contains("--test 'gauc'", e.Message);
        Assert.Contains("cross_user_auc", e.Message);
    }
}
