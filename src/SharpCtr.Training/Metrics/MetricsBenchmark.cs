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

        var sw = Stopwatch.StartNew();
        double auc = Auc.Compute(scores, labels);
        double aucMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        var grouped = GroupAuc.Compute(scores, labels, groupIds);
        double gaucMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        double logloss = LogLoss.FromProbabilities(scores, labels);
        double llMs = sw.Elapsed.TotalMilliseconds;
        return $"metrics on {rows:N0} rows, {grouped.Groups:N0} groups: AUC {auc:F4} in {aucMs:F1} ms, " +
               $"GAUC {grouped.Gauc:F4} / UAUC {grouped.Uauc:F4} ({grouped.GroupsCounted:N0} groups counted) in {gaucMs:F1} ms, " +
               $"LogLoss {logloss:F4} in {llMs:F1} ms";
    }
}
