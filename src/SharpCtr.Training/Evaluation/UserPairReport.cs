using SharpCtr.Data.Config;
using SharpCtr.Training.Metrics;
using SharpCtr.Training.Reports;

namespace SharpCtr.Training.Evaluation;

/// <summary>
/// The AUC of a `compare` folder's runs split into same-user and cross-user pairs
/// (<see cref="UserPairAuc"/>), mean ± std over seeds: where a model that gains GAUC but loses AUC
/// loses it.
/// </summary>
public static class UserPairReport
{
    public static readonly MetricColumn[] Columns =
    [
        MetricColumn.Auc, new("same_user_auc", "Same-user AUC", true), new("cross_user_auc", "Cross-user AUC", true),
        new("same_user_share", "Same-user share of pairs", true),
    ];

    /// <param name="reference">Model the paired t-test compares against (null: none).</param>
    /// <param name="tested">Column key the paired t-test reads (auc, same_user_auc, cross_user_auc).</param>
    public static ResultsTable Run(string compareDir, IReadOnlyList<string> models, string? reference, string tested, string dataRoot, TextWriter log)
    {
        if (!Columns.Any(c => c.Key == tested && c.Key != "same_user_share"))
            throw new ConfigException($"--test '{tested}': expected auc, same_user_auc or cross_user_auc");
        var runs = ComparisonRescore.Run(compareDir, models, dataRoot, Columns, (run, test, scores) =>
        {
            var labels = new float[test.Length];
            var users = new int[test.Length];
            for (int i = 0; i < test.Length; i++) { labels[i] = run.Data.Labels[test[i]]; users[i] = run.Data.User[test[i]]; }
            var r = UserPairAuc.Compute(scores, labels, users);
            return [r.Auc, r.SameUser, r.CrossUser, r.SameUserShare];
        }, log);
        return new ResultsTable { Metrics = Columns, Models = runs, ReferenceModel = reference, SignificanceMetric = tested };
    }
}
