using SharpCtr.Training.Metrics;

namespace SharpCtr.Training.Tests.Metrics;

public class GroupAucTests
{
    [Fact]
    public void Hand_computed_gauc_and_uauc()
    {
        // group 7: pos 0.9, 0.2; neg 0.5 → 0.9 wins, 0.2 loses → AUC 1/2, 3 rows
        // group 3: pos 0.6; neg 0.6, 0.1, 0.3 → ½ + 1 + 1 = 2.5 of 3 → 5/6, 4 rows
        // group 5: only negatives → skipped
        // GAUC = (3·½ + 4·5/6) / 7 = (1.5 + 3.3333) / 7 = 0.690476; UAUC = (½ + 5/6) / 2 = 2/3
        float[] s = [0.9f, 0.2f, 0.5f, 0.6f, 0.6f, 0.1f, 0.3f, 0.4f, 0.8f];
        float[] y = [1, 1, 0, 1, 0, 0, 0, 0, 0];
        int[] g = [7, 7, 7, 3, 3, 3, 3, 5, 5];
        var r = GroupAuc.Compute(s, y, g);
        Assert.Equal((1.5 + 4 * 5.0 / 6.0) / 7, r.Gauc, 1e-12);
        Assert.Equal(2.0 / 3.0, r.Uauc, 1e-12);
        Assert.Equal(2, r.GroupsCounted);
        Assert.Equal(3, r.Groups);
        Assert.Equal(7, r.RowsCounted);
    }

    [Fact]
    public void One_group_equals_plain_auc()
    {
        var rng = new Random(5);
        var s = new float[500];
        var y = new float[500];
        for (int i = 0; i < s.Length; i++) { s[i] = MathF.Round((float)rng.NextDouble(), 2); y[i] = rng.Next(2); }
        var r = GroupAuc.Compute(s, y, new int[500]);
        Assert.Equal(Auc.Compute(s, y), r.Gauc, 1e-12);
        Assert.Equal(Auc.Compute(s, y), r.Uauc, 1e-12);
    }

    [Fact]
    public void Equal_scores_in_different_groups_do_not_interact()
    {
        // Each group is perfectly ranked; the shared score 0.5 across groups must not matter.
        float[] s = [0.5f, 0.1f, 0.9f, 0.5f];
        float[] y = [1, 0, 1, 0];
        int[] g = [1, 1, 2, 2];
        Assert.Equal(1.0, GroupAuc.Gauc(s, y, g), 1e-12);
    }

    [Fact]
    public void No_group_with_both_classes_is_nan_with_zero_counted()
    {
        var r = GroupAuc.Compute(new float[] { 0.1f, 0.2f, 0.3f }, new byte[] { 1, 1, 0 }, new int[] { 1, 1, 2 });
        Assert.True(double.IsNaN(r.Gauc));
        Assert.True(double.IsNaN(r.Uauc));
        Assert.Equal(0, r.GroupsCounted);
        Assert.Equal(2, r.Groups);
    }

    [Fact]
    public void Mismatched_lengths_are_an_error()
    {
        Assert.Throws<ArgumentException>(() => GroupAuc.Compute(new float[] { 0.1f, 0.2f }, new float[] { 0, 1 }, new int[] { 1 }));
    }

    [Fact]
    public void Matches_scikit_learn_per_group()
    {
        foreach (var c in Fixtures.Load("auc_cases.json").EnumerateArray())
        {
            var s = Fixtures.Floats(c.GetProperty("scores"));
            var y = Fixtures.Floats(c.GetProperty("labels"));
            var g = Fixtures.Ints(c.GetProperty("groups"));
            var r = GroupAuc.Compute(s, y, g);
            Assert.Equal(c.GetProperty("gauc").GetDouble(), r.Gauc, 1e-12);
            Assert.Equal(c.GetProperty("uauc").GetDouble(), r.Uauc, 1e-12);
            Assert.Equal(c.GetProperty("groups_counted").GetInt32(), r.GroupsCounted);
            Assert.Equal(c.GetProperty("groups_total").GetInt32(), r.Groups);

            var per = GroupAuc.PerGroup(s, y, g);
            int k = 0;
            for (int i = 0; i < per.GroupIds.Length; i++)
            {
                if (double.IsNaN(per.Aucs[i])) continue;
                var want = c.GetProperty("per_group")[k++];
                Assert.Equal(want.GetProperty("group").GetInt32(), per.GroupIds[i]);
                Assert.Equal(want.GetProperty("count").GetInt32(), per.Counts[i]);
                Assert.Equal(want.GetProperty("auc").GetDouble(), per.Aucs[i], 1e-12);
            }
            Assert.Equal(c.GetProperty("per_group").GetArrayLength(), k);
        }
    }

    [Fact]
    public void Benchmark_runs_and_reports()
    {
        var line = MetricsBenchmark.Run(rows: 20_000, groups: 500, seed: 1);
        Assert.Contains("AUC", line);
        Assert.Contains("GAUC", line);
    }
}

public class RadixSortTests
{
    [Fact]
    public void Sorts_like_array_sort_and_carries_payload()
    {
        var rng = new Random(9);
        foreach (int n in new[] { 0, 5, 255, 256, 5000 })
        {
            var keys = new ulong[n];
            var items = new byte[n];
            for (int i = 0; i < n; i++)
            {
                // narrow score range and few groups: several passes get skipped
                keys[i] = (ulong)rng.Next(-3, 3) << 32 | (uint)rng.Next(1000, 1100);
                items[i] = (byte)(keys[i] % 251);
            }
            var expected = (ulong[])keys.Clone();
            Array.Sort(expected);
            SharpCtr.Training.Metrics.RadixSort.Sort(keys, items);
            Assert.Equal(expected, keys);
            for (int i = 0; i < n; i++) Assert.Equal((byte)(keys[i] % 251), items[i]);
        }
    }
}
