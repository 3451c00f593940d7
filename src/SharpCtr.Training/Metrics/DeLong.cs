namespace SharpCtr.Training.Metrics;

/// <summary>
/// DeLong's test for two AUCs measured on the same test rows (DeLong, DeLong &amp; Clarke-Pearson
/// 1988), in the O(n log n) form of Sun &amp; Xu (2014): each positive's and negative's
/// "structural component" comes from midranks within its class and within all rows, so no
/// m × n comparison matrix is built. The AUC difference over its standard error is ~ N(0, 1).
/// </summary>
public static class DeLong
{
    public static DeLongResult Compare(ReadOnlySpan<float> scoresA, ReadOnlySpan<float> scoresB, ReadOnlySpan<float> labels)
    {
        MetricInput.CheckLengths("DeLong", scoresA.Length, labels.Length);
        MetricInput.CheckLengths("DeLong", scoresB.Length, labels.Length);
        int m = 0;
        for (int i = 0; i < labels.Length; i++) m += MetricInput.Label("DeLong", labels[i], i);
        int n = labels.Length - m;
        if (m < 2 || n < 2)
            throw new ArgumentException($"DeLong: {m} positives and {n} negatives; it needs at least 2 of each.");

        var (v10A, v01A) = StructuralComponents("DeLong", scoresA, labels, m, n);
        var (v10B, v01B) = StructuralComponents("DeLong", scoresB, labels, m, n);
        double aucA = Mean(v10A), aucB = Mean(v10B);
        // Var(A − B) = (S10_AA + S10_BB − 2 S10_AB) / m + (S01_AA + S01_BB − 2 S01_AB) / n,
        // which equals the sample variance of the per-row component differences.
        double variance = VarianceOfDifference(v10A, v10B) / m + VarianceOfDifference(v01A, v01B) / n;
        double se = Math.Sqrt(variance);
        double diff = aucA - aucB;
        double z = se > 0 ? diff / se : diff == 0 ? double.NaN : Math.CopySign(double.PositiveInfinity, diff);
        return new DeLongResult(aucA, aucB, diff, se, z, Normal.TwoSidedP(z));
    }

    /// <summary>
    /// V10[i] = share of negatives a positive i outranks (ties ½) = (rank among all − rank among
    /// positives) / n; V01[j] = share of positives that outrank negative j = 1 − (rank among all
    /// − rank among negatives) / m. Ranks are midranks, which is what makes ties count ½.
    /// </summary>
    static (double[] v10, double[] v01) StructuralComponents(string metric, ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, int m, int n)
    {
        var all = new float[scores.Length];
        var pos = new float[m];
        var neg = new float[n];
        for (int i = 0, p = 0, q = 0; i < scores.Length; i++)
        {
            float s = MetricInput.Score(metric, scores[i], i);
            all[i] = s;
            if (labels[i] != 0) pos[p++] = s; else neg[q++] = s;
        }
        var rankAll = MidRanks(all);
        var rankPos = MidRanks(pos);
        var rankNeg = MidRanks(neg);
        var v10 = new double[m];
        var v01 = new double[n];
        for (int i = 0, p = 0, q = 0; i < all.Length; i++)
        {
            if (labels[i] != 0) { v10[p] = (rankAll[i] - rankPos[p]) / n; p++; }
            else { v01[q] = 1 - (rankAll[i] - rankNeg[q]) / m; q++; }
        }
        return (v10, v01);
    }

    /// <summary>1-based ranks in ascending order; tied values share the mean of their ranks.</summary>
    internal static double[] MidRanks(float[] values)
    {
        var keys = (float[])values.Clone();
        var order = new int[values.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(keys, order);
        var ranks = new double[values.Length];
        int k = 0;
        while (k < keys.Length)
        {
            int end = k + 1;
            while (end < keys.Length && keys[end] == keys[k]) end++;
            double mid = 0.5 * (k + 1 + end); // mean of ranks k+1 … end
            for (int j = k; j < end; j++) ranks[order[j]] = mid;
            k = end;
        }
        return ranks;
    }

    static double Mean(double[] x)
    {
        double s = 0;
        foreach (var v in x) s += v;
        return s / x.Length;
    }

    static double VarianceOfDifference(double[] a, double[] b)
    {
        double mean = 0;
        for (int i = 0; i < a.Length; i++) mean += a[i] - b[i];
        mean /= a.Length;
        double ss = 0;
        for (int i = 0; i < a.Length; i++) { double e = a[i] - b[i] - mean; ss += e * e; }
        return ss / (a.Length - 1);
    }
}
