namespace SharpCtr.Training.Metrics;

/// <summary>
/// Paired bootstrap over groups (requests or users) for the GAUC or UAUC difference of two
/// models scored on the same rows. Groups, not rows, are resampled because rows of one request
/// are correlated. Per-group AUCs are computed once, so a replicate costs O(groups), not a sort.
/// Deterministic for a given seed.
/// </summary>
public static class PairedBootstrap
{
    public static BootstrapResult GroupAucDifference(
        ReadOnlySpan<float> scoresA, ReadOnlySpan<float> scoresB, ReadOnlySpan<float> labels, ReadOnlySpan<int> groups,
        bool weightByRows = true, int replicates = 1000, int seed = 0)
    {
        if (replicates < 10) throw new ArgumentOutOfRangeException(nameof(replicates), replicates, "use at least 10 replicates.");
        if (scoresA.Length != scoresB.Length)
            throw new ArgumentException($"Bootstrap: model A has {scoresA.Length} scores, model B {scoresB.Length}; both must score the same rows.");
        var a = GroupAuc.PerGroup(scoresA, labels, groups);
        var b = GroupAuc.PerGroup(scoresB, labels, groups);

        // Keep the groups holding both classes (the same for both models: labels are shared).
        int g = 0;
        for (int i = 0; i < a.Aucs.Length; i++) if (!double.IsNaN(a.Aucs[i])) g++;
        if (g < 2) throw new ArgumentException($"Bootstrap: {g} groups hold both classes; it needs at least 2.");
        var diff = new double[g];
        var weight = new double[g];
        for (int i = 0, k = 0; i < a.Aucs.Length; i++)
        {
            if (double.IsNaN(a.Aucs[i])) continue;
            diff[k] = a.Aucs[i] - b.Aucs[i];
            weight[k] = weightByRows ? a.Counts[i] : 1;
            k++;
        }

        double observed = WeightedMean(diff, weight);
        var rng = new Random(seed);
        var samples = new double[replicates];
        for (int r = 0; r < replicates; r++)
        {
            double sum = 0, wsum = 0;
            for (int k = 0; k < g; k++)
            {
                int pick = rng.Next(g);
                sum += weight[pick] * diff[pick];
                wsum += weight[pick];
            }
            samples[r] = sum / wsum;
        }
        Array.Sort(samples);
        int atOrBelowZero = 0, atOrAboveZero = 0;
        foreach (var s in samples) { if (s <= 0) atOrBelowZero++; if (s >= 0) atOrAboveZero++; }
        double p = Math.Min(1.0, 2.0 * Math.Min(atOrBelowZero, atOrAboveZero) / replicates);
        return new BootstrapResult(observed, Quantile(samples, 0.025), Quantile(samples, 0.975), p, replicates, g);
    }

    static double WeightedMean(double[] x, double[] w)
    {
        double s = 0, ws = 0;
        for (int i = 0; i < x.Length; i++) { s += w[i] * x[i]; ws += w[i]; }
        return s / ws;
    }

    /// <summary>Linear interpolation between order statistics of sorted values (numpy's default).</summary>
    static double Quantile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
