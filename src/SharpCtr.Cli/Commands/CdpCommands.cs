using System.CommandLine;
using System.Globalization;
using SharpCtr.Data;
using SharpCtr.Data.Encoded;
using SharpCtr.Data.Readers;
using SharpCtr.Models.Diffusion;
using SharpCtr.Training.Evaluation;
using SharpCtr.Training.Experiments;

namespace SharpCtr.Cli.Commands;

/// <summary>
/// `sharpctr cdp steps|intent RUN_DIR`: analyses of a trained CDP run (its
/// best.safetensors): validation AUC and request latency against the number of inference steps,
/// and closeness of the raw and purified interest vectors to the synthetic log's true intent.
/// </summary>
public static class CdpCommands
{
    public static Command Build()
    {
        var cmd = new Command("cdp", "Analyses of a trained CDP run");
        cmd.Subcommands.Add(BuildSteps());
        cmd.Subcommands.Add(BuildIntent());
        return cmd;
    }

    static (Argument<string>, Option<string?>) Common()
    {
        var run = new Argument<string>("run-dir") { Description = "a CDP run folder (config.yaml, best.safetensors)" };
        var dataDir = new Option<string?>("--data-dir") { Description = "data root" };
        return (run, dataDir);
    }

    /// <summary>The run as it was trained: its own resolved config.yaml picks the data and the model, so an
    /// analysis cannot pair the weights with another data set by a forgotten override.</summary>
    static (Experiment, EncodedDataset, Cdp) Load(ParseResult parse, Argument<string> run, Option<string?> dataDir)
    {
        var r = TrainedRun.Load(parse.GetValue(run)!, DataRoot.Resolve(parse.GetValue(dataDir)));
        var model = r.Model as Cdp ?? throw new Data.Config.ConfigException($"{r.Dir}: model '{r.Experiment.ModelName}' is not cdp");
        return (r.Experiment, r.Data, model);
    }

    static Command BuildSteps()
    {
        var (run, dataDir) = Common();
        var steps = new Option<string>("--steps") { Description = "comma-separated inference step counts", DefaultValueFactory = _ => "1,5,10,20,50" };
        var cmd = new Command("steps", "Validation AUC/GAUC and 100-candidate request latency for several inference step counts") { run, dataDir, steps };
        cmd.SetAction(parse =>
        {
            var (exp, data, model) = Load(parse, run, dataDir);
            var valid = data.Indices(Splits.Valid);
            var test = data.Indices(Splits.Test);
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine("| inference steps | valid AUC | valid GAUC | p50 ms (100 cand.) | p99 ms |");
            Console.WriteLine("|---:|---:|---:|---:|---:|");
            foreach (var k in parse.GetValue(steps)!.Split(',').Select(s => int.Parse(s, inv)))
            {
                model.Purifier.InferenceSteps = k;
                var m = Evaluator.Metrics(data, valid, Evaluator.Predict(model, data, valid, exp.Train.EvalBatchSize));
                var lat = RequestLatency.Measure(model, data, test, 100, 300);
                Console.WriteLine(string.Format(inv, "| {0} | {1:F4} | {2:F4} | {3:F3} | {4:F3} |", k, m.Auc, m.Gauc, lat.P50Ms, lat.P99Ms));
            }
            return 0;
        });
        return cmd;
    }

    static Command BuildIntent()
    {
        var (run, dataDir) = Common();
        var itemField = new Option<string>("--item-field") { DefaultValueFactory = _ => "item_id" };
        var categoryField = new Option<string>("--category-field") { DefaultValueFactory = _ => "category" };
        var cmd = new Command("intent", "Closeness of raw (x0) and purified (h) interest to the synthetic log's true intent") { run, dataDir, itemField, categoryField };
        cmd.SetAction(parse =>
        {
            var (exp, data, model) = Load(parse, run, dataDir);
            var logDir = Path.Combine(DataRoot.Resolve(parse.GetValue(dataDir)), exp.Data.Path);
            var truth = ImpressionLogReader.Read(logDir).Truth;
            var r = PurifiedIntent.Measure(model, data, truth, parse.GetValue(itemField)!, parse.GetValue(categoryField)!);
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine($"probe fitted on {r.ProbeTrainRows:N0} validation rows, scored on {r.TestRows:N0} test rows; {r.Leaves} category ids; majority-leaf accuracy {r.MajorityAccuracy.ToString("F4", inv)}");
            Console.WriteLine("| vector | probe accuracy (true intent) | cosine to true-intent centroid | nearest centroid = true intent |");
            Console.WriteLine("|---|---:|---:|---:|");
            foreach (var (name, s) in new[] { ("raw pooled x0", r.Raw), ("purified h", r.Purified) })
                Console.WriteLine(string.Format(inv, "| {0} | {1:F4} | {2:F4} | {3:F4} |", name, s.ProbeAccuracy, s.CentroidCosine, s.NearestCentroidAccuracy));
            return 0;
        });
        return cmd;
    }
}
