using System.CommandLine;
using System.Globalization;
using SharpCtr.Data;
using SharpCtr.Data.Encoded;
using SharpCtr.Data.Readers;
using SharpCtr.Models;
using SharpCtr.Models.Diffusion;
using SharpCtr.Tensors;
using SharpCtr.Tensors.IO;
using SharpCtr.Training.Evaluation;
using SharpCtr.Training.Experiments;

namespace SharpCtr.Cli.Commands;

/// <summary>
/// `sharpctr cdp steps|intent &lt;config&gt; --run DIR`: analyses of a trained CDP run (its
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

    static (Argument<string>, Option<string>, Option<string[]>, Option<string?>) Common()
    {
        var config = new Argument<string>("config") { Description = "the experiment YAML the run was trained with" };
        var run = new Option<string>("--run") { Description = "run folder holding best.safetensors", Required = true };
        var set = new Option<string[]>("--set") { Description = "override a config value (repeatable)" };
        var dataDir = new Option<string?>("--data-dir") { Description = "data root" };
        return (config, run, set, dataDir);
    }

    static (Experiment, EncodedDataset, Cdp) Load(ParseResult parse, Argument<string> config, Option<string> run, Option<string[]> set, Option<string?> dataDir)
    {
        var exp = Experiment.Load(parse.GetValue(config)!, parse.GetValue(set) ?? []);
        var data = DatasetLoader.Load(exp.Data, DataRoot.Resolve(parse.GetValue(dataDir))).Dataset;
        var model = ModelRegistry.Create(new ModelContext(data, exp.Model, new Rng((ulong)exp.Train.Seed))) as Cdp
            ?? throw new InvalidOperationException($"{exp.Path}: model '{exp.ModelName}' is not cdp");
        var state = model.Parameters().Select(p => p.Value).Concat(model.Buffers().Select(b => b.Value)).ToArray();
        Checkpoint.Load(Path.Combine(parse.GetValue(run)!, "best.safetensors"), state);
        model.Eval();
        return (exp, data, model);
    }

    static Command BuildSteps()
    {
        var (config, run, set, dataDir) = Common();
        var steps = new Option<string>("--steps") { Description = "comma-separated inference step counts", DefaultValueFactory = _ => "1,5,10,20,50" };
        var cmd = new Command("steps", "Validation AUC/GAUC and 100-candidate request latency for several inference step counts") { config, run, set, dataDir, steps };
        cmd.SetAction(parse =>
        {
            var (exp, data, model) = Load(parse, config, run, set, dataDir);
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
        var (config, run, set, dataDir) = Common();
        var itemField = new Option<string>("--item-field") { DefaultValueFactory = _ => "item_id" };
        var categoryField = new Option<string>("--category-field") { DefaultValueFactory = _ => "category" };
        var cmd = new Command("intent", "Closeness of raw (x0) and purified (h) interest to the synthetic log's true intent") { config, run, set, dataDir, itemField, categoryField };
        cmd.SetAction(parse =>
        {
            var (exp, data, model) = Load(parse, config, run, set, dataDir);
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
