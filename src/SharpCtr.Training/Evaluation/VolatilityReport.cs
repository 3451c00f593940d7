using SharpCtr.Data.Encoded;
using SharpCtr.Training.Experiments;
using SharpCtr.Training.Reports;

namespace SharpCtr.Training.Evaluation;

/// <summary>
/// GenCI's Table 5 for the runs of a `compare` folder: every finished run (model/seedN with
/// best.safetensors) scores the test split again, and AUC / LogLoss are reported separately on the
/// fast- and the slow-changing users (<see cref="InterestVolatility"/>), mean ± std over seeds.
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
        if (!Directory.Exists(compareDir)) throw new DirectoryNotFoundException($"{compareDir}: no such comparison folder");
        var names = models.Count > 0 ? models.ToList()
            : Directory.GetDirectories(compareDir).Where(d => SeedDirs(d).Length > 0).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()!;
        if (names.Count == 0) throw new ArgumentException($"{compareDir}: no model folder with finished seed runs");
        var datasets = new Dictionary<string, EncodedDataset>();
        var cuts = new Dictionary<EncodedDataset, VolatilityGroups>(ReferenceEqualityComparer.Instance);
        VolatilityGroups GroupsOf(EncodedDataset d)
        {
            if (!cuts.TryGetValue(d, out var g)) cuts[d] = g = InterestVolatility.Split(InterestVolatility.PerUser(d, field));
            return g;
        }
        VolatilityGroups? groups = null;
        int fastRows = 0, slowRows = 0;
        var runs = new List<ModelRuns>();
        foreach (var name in names)
        {
            var dirs = SeedDirs(Path.Combine(compareDir, name!));
            if (dirs.Length == 0) throw new ArgumentException($"{Path.Combine(compareDir, name!)}: no finished seed runs (seedN folders with best.safetensors)");
            var seeds = new List<int>();
            var values = Columns.ToDictionary(c => c.Key, _ => new double[dirs.Length]);
            for (int i = 0; i < dirs.Length; i++)
            {
                var run = TrainedRun.Load(dirs[i], dataRoot, datasets);
                // Each data set gets its own cut (users are indexed per data set); models of one table read the same rows
                // and split (GenCI's data only adds semantic-ID fields), so the cuts agree — and a table whose do not is refused.
                var cut = GroupsOf(run.Data);
                groups ??= cut;
                if (cut.Threshold != groups.Threshold || cut.FastUsers != groups.FastUsers)
                    throw new ArgumentException($"{dirs[i]}: its data set cuts users at {cut.Threshold:F4} ({cut.FastUsers} fast) but the first run's at " +
                        $"{groups.Threshold:F4} ({groups.FastUsers} fast) — the runs of one volatility table must share their rows and split");
                var test = run.Data.Indices(Splits.Test);
                var scores = Evaluator.Predict(run.Model, run.Data, test, run.Experiment.Train.EvalBatchSize);
                var (fast, slow) = InterestVolatility.Evaluate(run.Data, test, scores, cut);
                (fastRows, slowRows) = (fast.Rows, slow.Rows);
                values["fast_auc"][i] = fast.Auc; values["fast_logloss"][i] = fast.LogLoss;
                values["slow_auc"][i] = slow.Auc; values["slow_logloss"][i] = slow.LogLoss;
                seeds.Add(run.Experiment.Train.Seed);
                log.WriteLine($"{name} seed {run.Experiment.Train.Seed}: fast AUC {fast.Auc:F4} / LogLoss {fast.LogLoss:F4}, slow AUC {slow.Auc:F4} / LogLoss {slow.LogLoss:F4}");
            }
            runs.Add(new ModelRuns(name!, seeds, values));
        }
        var table = new ResultsTable { Metrics = Columns, Models = runs, ReferenceModel = reference, SignificanceMetric = "fast_auc" };
        return new Result(table, groups!, fastRows, slowRows);
    }

    static string[] SeedDirs(string modelDir) =>
        Directory.GetDirectories(modelDir, "seed*").Where(d => File.Exists(Path.Combine(d, "best.safetensors"))).Order(StringComparer.Ordinal).ToArray();
}
