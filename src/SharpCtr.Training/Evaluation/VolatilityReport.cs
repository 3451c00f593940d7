using SharpCtr.Data.Config;
using SharpCtr.Data.Encoded;
using SharpCtr.Training.Reports;

namespace SharpCtr.Training.Evaluation;

/// <summary>
/// GenCI's Table 5 for the runs of a `compare` folder (<see cref="ComparisonRescore"/>): AUC / LogLoss
/// separately on the fast- and the slow-changing users (<see cref="InterestVolatility"/>), mean ± std over seeds.
/// </summary>
public static class VolatilityReport
{
    public static readonly MetricColumn[] Columns =
    [
        new("fast_auc", "Fast AUC", true), new("fast_logloss", "Fast LogLoss", false),
        new("slow_auc", "Slow AUC", true), new("slow_logloss", "Slow LogLoss", false),
    ];

    public sealed record Result(ResultsTable Table, VolatilityGroups Groups, int FastRows, int SlowRows);

    /// <param name="models">Model folders to read, in table order; empty: every folder holding seed runs, by name.</param>
    /// <param name="reference">Model the paired t-test on fast-group AUC compares against (null: none).</param>
    public static Result Run(string compareDir, IReadOnlyList<string> models, string field, string? reference, string dataRoot, TextWriter log)
    {
        var cuts = new Dictionary<EncodedDataset, VolatilityGroups>(ReferenceEqualityComparer.Instance);
        VolatilityGroups? groups = null;
        int fastRows = 0, slowRows = 0;
        var runs = ComparisonRescore.Run(compareDir, models, dataRoot, Columns, (run, test, scores) =>
        {
            // Each data set gets its own cut (users are indexed per data set); models of one table read the same rows
            // and split (GenCI's data only adds semantic-ID fields), so the cuts agree — and a table whose do not is refused.
            if (!cuts.TryGetValue(run.Data, out var cut)) cuts[run.Data] = cut = InterestVolatility.Split(InterestVolatility.PerUser(run.Data, field));
            groups ??= cut;
            if (cut.Threshold != groups.Threshold || cut.FastUsers != groups.FastUsers)
                throw new ConfigException($"{run.Dir}: its data set cuts users at {cut.Threshold:F4} ({cut.FastUsers} fast) but the first run's at " +
                    $"{groups.Threshold:F4} ({groups.FastUsers} fast) — the runs of one volatility table must share their rows and split");
            var (fast, slow) = InterestVolatility.Evaluate(run.Data, test, scores, cut);
            (fastRows, slowRows) = (fast.Rows, slow.Rows);
            return [fast.Auc, fast.LogLoss, slow.Auc, slow.LogLoss];
        }, log);
        var table = new ResultsTable { Metrics = Columns, Models = runs, ReferenceModel = reference, SignificanceMetric = "fast_auc" };
        return new Result(table, groups!, fastRows, slowRows);
    }
}
