using SharpCtr.Data.Encoded;
using SharpCtr.Training.Experiments;
using SharpCtr.Training.Reports;

namespace SharpCtr.Training.Evaluation;

/// <summary>
/// Scores the test split again with every finished run of a `compare` folder (model/seedN with
/// best.safetensors) and hands the scores to an analysis that metrics.json does not hold (Table 5's
/// volatility groups, the user-pair split of the AUC). Runs of one data set share its loaded rows.
/// </summary>
public static class ComparisonRescore
{
    /// <summary>One run's test scores: the run, its test rows (indices into run.Data) and their click probabilities.</summary>
    public delegate double[] Measure(TrainedRun run, int[] testRows, float[] scores);

    /// <param name="models">Model folders to read, in table order; empty: every folder holding seed runs, by name.</param>
    /// <param name="measure">Returns one value per column, in column order.</param>
    public static List<ModelRuns> Run(string compareDir, IReadOnlyList<string> models, string dataRoot,
        IReadOnlyList<MetricColumn> columns, Measure measure, TextWriter log)
    {
        if (!Directory.Exists(compareDir)) throw new DirectoryNotFoundException($"{compareDir}: no such comparison folder");
        var names = models.Count > 0 ? models.ToList()
            : Directory.GetDirectories(compareDir).Where(d => SeedDirs(d).Length > 0).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToList();
        // Missing folders and unfinished runs are the user's to fix: exceptions the command line reports as one line.
        if (names.Count == 0) throw new FileNotFoundException($"{compareDir}: no model folder with finished seed runs");
        var datasets = new Dictionary<string, EncodedDataset>();
        var runs = new List<ModelRuns>();
        foreach (var name in names)
        {
            var modelDir = Path.Combine(compareDir, name);
            if (!Directory.Exists(modelDir))
                throw new DirectoryNotFoundException($"{modelDir}: no such model folder; {compareDir} holds: {string.Join(", ", Directory.GetDirectories(compareDir).Select(Path.GetFileName).Order(StringComparer.Ordinal))}");
            var dirs = SeedDirs(modelDir);
            if (dirs.Length == 0) throw new FileNotFoundException($"{modelDir}: no finished seed runs (seedN folders with best.safetensors)");
            var seeds = new List<int>();
            var values = columns.ToDictionary(c => c.Key, _ => new double[dirs.Length]);
            for (int i = 0; i < dirs.Length; i++)
            {
                var run = TrainedRun.Load(dirs[i], dataRoot, datasets);
                var test = run.Data.Indices(Splits.Test);
                var scores = Evaluator.Predict(run.Model, run.Data, test, run.Experiment.Train.EvalBatchSize);
                var measured = measure(run, test, scores);
                if (measured.Length != columns.Count) throw new InvalidOperationException($"{columns.Count} columns but {measured.Length} values measured");
                for (int c = 0; c < columns.Count; c++) values[columns[c].Key][i] = measured[c];
                seeds.Add(run.Experiment.Train.Seed);
                log.WriteLine($"{name} seed {run.Experiment.Train.Seed}: " +
                    string.Join(", ", columns.Select((c, k) => $"{c.Header} {measured[k]:F4}")));
            }
            runs.Add(new ModelRuns(name, seeds, values));
        }
        return runs;
    }

    static string[] SeedDirs(string modelDir) =>
        Directory.GetDirectories(modelDir, "seed*").Where(d => File.Exists(Path.Combine(d, "best.safetensors"))).Order(StringComparer.Ordinal).ToArray();
}
