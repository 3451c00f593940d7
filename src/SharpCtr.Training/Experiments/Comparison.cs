using System.Text.Json;
using SharpCtr.Data;
using SharpCtr.Training.Reports;
using SharpCtr.Training.Trainer;

namespace SharpCtr.Training.Experiments;

/// <summary>
/// Runs several experiments over several seeds and summarises them as one table (mean ± std,
/// RelaImpr against a base model, paired t-test against a reference model). Each run keeps its
/// own folder; a run whose metrics.json exists is not repeated, and an interrupted run resumes
/// from its checkpoint, so a killed comparison continues where it stopped.
/// </summary>
public sealed class Comparison(IReadOnlyList<string> configs, int seeds, string outDir, string dataRoot, IReadOnlyList<string> overrides, TextWriter log)
{
    public static readonly MetricColumn[] Columns =
    [
        MetricColumn.Auc, MetricColumn.LogLoss, MetricColumn.Gauc, MetricColumn.Uauc,
        new("train_sps", "train samples/s", true, 0), new("p50_ms", "p50 ms (100 cand.)", false, 3), new("p99_ms", "p99 ms", false, 3),
    ];

    public ResultsTable Run(string? baseModel, string? referenceModel)
    {
        var models = new List<ModelRuns>();
        foreach (var config in configs)
        {
            var first = Experiment.Load(config, overrides);
            var data = DatasetLoader.Load(first.Data, dataRoot).Dataset;
            var seedList = new List<int>();
            var values = Columns.ToDictionary(c => c.Key, _ => new List<double>());
            for (int k = 0; k < seeds; k++)
            {
                int seed = first.Train.Seed + k;
                var exp = Experiment.Load(config, overrides.Append($"train.seed={seed}"));
                var dir = Path.Combine(outDir, exp.Name, $"seed{seed}");
                var metricsPath = Path.Combine(dir, "metrics.json");
                TrainResult? r = null;
                if (!File.Exists(metricsPath))
                {
                    log.WriteLine($"== {exp.Name} seed {seed}");
                    r = new ModelTrainer(exp, data, dir, log).Run(resume: true);
                }
                var m = ReadMetrics(metricsPath);
                seedList.Add(seed);
                foreach (var c in Columns) values[c.Key].Add(m[c.Key]);
            }
            models.Add(new ModelRuns(first.Name, seedList, values.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray())));
        }
        var names = models.Select(m => m.Model).ToHashSet();
        var table = new ResultsTable
        {
            Metrics = Columns,
            Models = models,
            BaseModel = baseModel is not null && names.Contains(baseModel) ? baseModel : null,
            ReferenceModel = referenceModel is not null && names.Contains(referenceModel) ? referenceModel : null,
        };
        Directory.CreateDirectory(outDir);
        Tensors.IO.AtomicFile.WriteAllText(Path.Combine(outDir, "results.md"), MarkdownTable.Render(table));
        CsvReport.Write(Path.Combine(outDir, "results.csv"), table);
        JsonReport.Write(Path.Combine(outDir, "results.json"), table);
        return table;
    }

    /// <summary>The comparison's columns from one run's metrics.json.</summary>
    static Dictionary<string, double> ReadMetrics(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var test = root.GetProperty("test");
        var inf = root.GetProperty("inference");
        return new Dictionary<string, double>
        {
            ["auc"] = test.GetProperty("auc").GetDouble(),
            ["logloss"] = test.GetProperty("logloss").GetDouble(),
            ["gauc"] = Num(test.GetProperty("gauc")),
            ["uauc"] = Num(test.GetProperty("uauc")),
            ["train_sps"] = root.GetProperty("train_samples_per_second").GetDouble(),
            ["p50_ms"] = inf.GetProperty("p50_ms").GetDouble(),
            ["p99_ms"] = inf.GetProperty("p99_ms").GetDouble(),
        };
        static double Num(JsonElement e) => e.ValueKind == JsonValueKind.Number ? e.GetDouble() : double.NaN;
    }
}
