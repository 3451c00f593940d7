namespace SharpCtr.Training.Metrics;

/// <summary>
/// Paired Student t-test, for comparing two models run with the same seeds (same splits and
/// initial shuffles): t = mean(d) / (sd(d) / √n) with d = a − b and n − 1 degrees of freedom,
/// as scipy.stats.ttest_rel. Needs at least two pairs. Identical runs (all d equal) give
/// t = ±∞, p = 0, or t = NaN, p = NaN when every difference is zero.
/// </summary>
public static class PairedTTest
{
    public static PairedTTestResult Compute(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length != b.Length)
            throw new ArgumentException($"Paired t-test: {a.Length} values against {b.Length}; runs must pair up seed by seed.");
        int n = a.Length;
        if (n < 2) throw new ArgumentException($"Paired t-test: {n} pairs; it needs at least 2 (several seeds).");
        double mean = 0;
        for (int i = 0; i < n; i++) mean += a[i] - b[i];
        mean /= n;
        double ss = 0;
        for (int i = 0; i < n; i++) { double e = a[i] - b[i] - mean; ss += e * e; }
        double sd = Math.Sqrt(ss / (n - 1));
        double t = mean / (sd / Math.Sqrt(n));
        double p = double.IsNaN(t) ? double.NaN : StudentT.TwoSidedP(t, n - 1);
        return new PairedTTestResult(mean, t, n - 1, p);
    }
}
