using System.Diagnostics;

namespace SharpCtr.Training.Metrics;

/// <summary>
/// Times AUC, GAUC/UAUC and LogLoss on synthetic rows (scores with ties, groups of ~20 rows),
/// for `sharpctr bench` and the benchmark notes. Returns one line of text.
/// </summary>
public static class MetricsBenchmark
{
    public static string Run(int rows = 1_000_000, int groups = 50_000, int seed = 1)
    {
        var rng = new Random(seed);
        var scores = new float[rows];
        var labels = new float[rows];
        var groupIds = new int[rows];
        for (int i = 0; i < rows; i++)
        {
            labels[i] = rng.NextDouble() < 0.25 ? 1 : 0;
            scores[i] = MathF.Round((float)(0.3 * labels[i] + 0.7 * rng.NextDouble()), 4);
            groupIds[i] = rng.Next(groups);
        }
        // Warm up so the timings show steady-state code, not the JIT.
        Auc.Compute(scores.AsSpan(0, Math.Min(rows, 1000)), labels.AsSpan(0, Math.Min(rows, 1000)));
        GroupAuc.Compute(scores.AsSpan(0, Math.Min(rows, 1000)), labels.AsSpan(0, Math.Min(rows, 1000)), groupIds.AsSpan(0, Math.Min(rows, 1000)));

        double auc = 0, logloss = 0;
        var grouped = default(GroupAucResult);
        var (aucMs, aucCpu) = Time(() => auc = Auc.Compute(scores, labels));
        var (gaucMs, gaucCpu) = Time(() => grouped = GroupAuc.Compute(scores, labels, groupIds));
        var (llMs, llCpu) = Time(() => logloss = LogLoss.FromProbabilities(scores, labels));
        return $"metrics on {rows:N0} rows, {grouped.Groups:N0} groups (wall / process CPU ms): AUC {auc:F4} {aucMs:F0} / {aucCpu:F0}, " +
               $"GAUC {grouped.Gauc:F4} + UAUC {grouped.Uauc:F4} ({grouped.GroupsCounted:N0} groups counted) {gaucMs:F0} / {gaucCpu:F0}, " +
               $"LogLoss {logloss:F4} {llMs:F0} / {llCpu:F0}";
    }

    /// <summary>Wall and CPU time: on a shared machine CPU time is the steadier of the two.</summary>
    static (double WallMs, double CpuMs) Time(Action action)
    {
        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        action();
        double wall = sw.Elapsed.TotalMilliseconds;
        process.Refresh();
        return (wall, (process.TotalProcessorTime - cpu0).TotalMilliseconds);
    }
}
