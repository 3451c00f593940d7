using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SharpCtr.Data;
using SharpCtr.Data.Encoded;
using SharpCtr.Training.Evaluation;
using SharpCtr.Training.Experiments;

namespace SharpCtr.Cli.Commands;

/// <summary>`sharpctr predict &lt;run-dir&gt;`: a finished run's score for every row of a split, as CSV.</summary>
public static class PredictCommands
{
    public static Command Build()
    {
        var run = new Argument<string>("run-dir") { Description = "a run folder written by `sharpctr train` or `compare` (config.yaml, best.safetensors)" };
        var split = new Option<string>("--split") { Description = "which rows to score", DefaultValueFactory = _ => "test" };
        split.AcceptOnlyFromAmong(Splits.Names);
        var output = new Option<string?>("--out") { Description = "CSV file to write (default: RUN_DIR/predictions-SPLIT.csv)" };
        var dataDir = new Option<string?>("--data-dir") { Description = "data root" };
        var cmd = new Command("predict", "Score every row of a split with a trained run's best weights; write row, user, item, label, score as CSV")
            { run, split, output, dataDir };
        cmd.SetAction(parse =>
        {
            var dir = parse.GetValue(run)!;
            var splitName = parse.GetValue(split)!;
            byte s = (byte)Array.IndexOf(Splits.Names, splitName);
            var r = TrainedRun.Load(dir, DataRoot.Resolve(parse.GetValue(dataDir)));
            var p = Predictions.Of(r, s);
            var path = parse.GetValue(output) ?? Path.Combine(dir, $"predictions-{splitName}.csv");
            p.WriteCsv(r.Data, path);
            var m = p.Metrics;
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Format(inv, "{0} {1}: {2:N0} rows, AUC {3:F4}, LogLoss {4:F4}, GAUC {5:F4}, UAUC {6:F4}",
                r.Experiment.Name, splitName, m.Rows, m.Auc, m.LogLoss, m.Gauc, m.Uauc));
            if (RecordedAuc(dir, splitName) is double recorded && Math.Abs(recorded - m.Auc) > 1e-6)
                Console.Error.WriteLine(string.Format(inv,
                    "warning: metrics.json recorded {0} AUC {1:F6} for this run; the data or the code has changed since it was trained", splitName, recorded));
            Console.WriteLine($"written: {path}");
        });
        return cmd;
    }

    /// <summary>The split's AUC in the run's metrics.json, where it recorded one (valid and test); a file
    /// that does not parse is no record (the check is a courtesy, the scores stand without it).</summary>
    static double? RecordedAuc(string dir, string split)
    {
        var path = Path.Combine(dir, "metrics.json");
        if (!File.Exists(path)) return null;
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(path));
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty(split, out var m)
                && m.ValueKind == JsonValueKind.Object && m.TryGetProperty("auc", out var auc) && auc.ValueKind == JsonValueKind.Number
                ? auc.GetDouble() : null;
        }
        catch (JsonException) { return null; }
    }
}
