using System.CommandLine;
using System.Globalization;
using SharpCtr.Data;
using SharpCtr.Data.Config;
using SharpCtr.Data.Encoded;
using SharpCtr.Training.Experiments;
using SharpCtr.Training.Trainer;

namespace SharpCtr.Cli.Commands;

/// <summary>`sharpctr train &lt;config&gt;`: train and evaluate one experiment, print its table, write metrics.json.</summary>
public static class TrainCommands
{
    public static Command Build()
    {
        var config = new Argument<string>("config") { Description = "experiment YAML (configs/<dataset>/<model>.yaml)" };
        var set = new Option<string[]>("--set") { Description = "override a config value, e.g. --set train.epochs=2 (repeatable)" };
        var output = new Option<string?>("--out") { Description = "run folder (default runs/<experiment>-seed<seed>)" };
        var dataDir = new Option<string?>("--data-dir") { Description = "data root (default $SHARPCTR_DATA, then ./data)" };
        var resume = new Option<bool>("--resume") { Description = "continue from the run folder's last checkpoint" };
        var cmd = new Command("train", "Train and evaluate one experiment") { config, set, output, dataDir, resume };
        cmd.SetAction(parse =>
        {
            var exp = Experiment.Load(parse.GetValue(config)!, parse.GetValue(set) ?? []);
            var outDir = parse.GetValue(output) ?? Path.Combine("runs", $"{exp.Name}-seed{exp.Train.Seed}");
            var root = DataRoot.Resolve(parse.GetValue(dataDir));
            var loaded = DatasetLoader.Load(exp.Data, root);
            Console.Error.WriteLine($"data: {loaded.Dataset.Name} ({loaded.Dataset.Count:N0} rows{(loaded.FromCache ? ", from cache" : "")})");
            var trainer = new ModelTrainer(exp, loaded.Dataset, outDir, Console.Error);
            var r = trainer.Run(parse.GetValue(resume));
            PrintTable([r]);
            Console.WriteLine($"metrics: {Path.Combine(outDir, "metrics.json")}");
            return 0;
        });
        return cmd;
    }

    /// <summary>`sharpctr bench train &lt;config&gt;`: training samples/s and allocation per step of one experiment.</summary>
    public static Command BuildBench()
    {
        var config = new Argument<string>("config") { Description = "experiment YAML" };
        var set = new Option<string[]>("--set") { Description = "override a config value (repeatable)" };
        var steps = new Option<int>("--steps") { Description = "measured steps (after 20 warm-up steps)", DefaultValueFactory = _ => 200 }.AtLeast(1);
        var dataDir = new Option<string?>("--data-dir") { Description = "data root" };
        var cmd = new Command("train", "Training throughput of one experiment (samples/s, bytes allocated per step)") { config, set, steps, dataDir };
        cmd.SetAction(parse =>
        {
            var exp = Experiment.Load(parse.GetValue(config)!, parse.GetValue(set) ?? []);
            var data = DatasetLoader.Load(exp.Data, DataRoot.Resolve(parse.GetValue(dataDir))).Dataset;
            var trainer = new ModelTrainer(exp, data, Path.Combine(Path.GetTempPath(), "sharpctr-bench"), TextWriter.Null);
            var (rate, bytes, ms, cpuMs, medianBytes) = trainer.MeasureThroughput(parse.GetValue(steps));
            // ReLU layers: the share of units a batch switched on; the products skip the others (design note 50).
            // Printed first: scripts read the throughput from the last line.
            var relu = trainer.Model.Modules().Where(m => m.Value is SharpCtr.Tensors.Nn.Linear { LiveUnitShare: not null })
                .Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Name} {((SharpCtr.Tensors.Nn.Linear)m.Value).LiveUnitShare:P0}")).ToArray();
            if (relu.Length > 0) Console.WriteLine($"  ReLU units some row of a batch switched on (mean over the run; a layer's products skip the rest when an eighth or more are off): {string.Join(", ", relu)}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{exp.Name}: {rate:N0} samples/s, {ms:F2} ms/step ({cpuMs:F1} CPU ms, batch {exp.Train.BatchSize}), {medianBytes / 1024:N1} KiB allocated/step (median; mean {bytes / 1024:N1}), GEMM: {SharpCtr.Tensors.Kernels.Gemm.Backend}"));
            return 0;
        });
        return cmd;
    }

    /// <summary>`sharpctr bench request &lt;config&gt;`: p50/p99 of scoring one 100-candidate request on one thread.</summary>
    public static Command BuildRequestBench()
    {
        var config = new Argument<string>("config") { Description = "experiment YAML (untrained weights), or a finished run folder (its best weights)" };
        var set = new Option<string[]>("--set") { Description = "override a config value (repeatable; not with a run folder)" };
        var candidates = new Option<int>("--candidates") { Description = "candidates per request", DefaultValueFactory = _ => 100 }.AtLeast(1);
        var requests = new Option<int>("--requests") { Description = "timed requests (after 30 warm-up)", DefaultValueFactory = _ => 1000 }.AtLeast(1);
        var dataDir = new Option<string?>("--data-dir") { Description = "data root" };
        var threads = new Option<int>("--threads") { Description = "kernel threads for the request (the service gives a lone request 2)", DefaultValueFactory = _ => 1 }.AtLeast(1);
        // A run folder's trained weights can cost less than untrained ones: a ReLU MLP skips the
        // positions where a block of candidates is all 0, and trained ReLUs leave more of them.
        var cmd = new Command("request", "Latency of scoring one request (one user, N candidates) on one thread, with untrained weights (a config) or a run's best weights (a run folder)") { config, set, candidates, requests, dataDir, threads };
        cmd.SetAction(parse =>
        {
            var source = parse.GetValue(config)!;
            Experiment exp;
            EncodedDataset data;
            SharpCtr.Models.CtrModel model;
            if (Directory.Exists(source))
            {
                if (parse.GetValue(set) is { Length: > 0 }) throw new ConfigException($"{source}: --set does not apply to a finished run (it scores with the run's own config)");
                var run = TrainedRun.Load(source, DataRoot.Resolve(parse.GetValue(dataDir)));
                (exp, data, model) = (run.Experiment, run.Data, run.Model);
            }
            else
            {
                exp = Experiment.Load(source, parse.GetValue(set) ?? []);
                data = DatasetLoader.Load(exp.Data, DataRoot.Resolve(parse.GetValue(dataDir))).Dataset;
                model = SharpCtr.Models.ModelRegistry.Create(new SharpCtr.Models.ModelContext(data, exp.Model, new SharpCtr.Tensors.Rng((ulong)exp.Train.Seed)));
            }
            var test = data.Indices(SharpCtr.Data.Encoded.Splits.Test);
            var r = SharpCtr.Training.Evaluation.RequestLatency.Measure(model, data, test, parse.GetValue(candidates), parse.GetValue(requests), threads: parse.GetValue(threads));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{exp.Name}: {r.Candidates} candidates, {r.Requests} requests, p50 {r.P50Ms:F3} ms, p99 {r.P99Ms:F3} ms, mean {r.MeanMs:F3} ms ({parse.GetValue(threads)} thread(s)), {r.AllocatedBytesPerRequest:N0} bytes allocated per request"));
            // which MLP heads folded the user's columns into one product per request (design note 40)
            var folded = model.Modules().Where(m => m.Value is SharpCtr.Tensors.Nn.Mlp { FoldedRequests: > 0 }).Select(m => m.Name).ToArray();
            Console.WriteLine(folded.Length > 0 ? $"  user columns folded once per request in: {string.Join(", ", folded)}" : "  no MLP head folded the user's columns");
            if (r.HistoryPart is { } h && r.CandidatePart is { } c)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  history part (encode + generate, once per request): p50 {h.P50Ms:F3} ms, p99 {h.P99Ms:F3} ms; candidate part: p50 {c.P50Ms:F3} ms, p99 {c.P99Ms:F3} ms"));
            return 0;
        });
        return cmd;
    }

    public static void PrintTable(IEnumerable<TrainResult> results)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine("| model | seed | best epoch | test AUC | test LogLoss | test GAUC | test UAUC | valid AUC | train samples/s | inference samples/s | p50 ms (100 cand.) | p99 ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
            Console.WriteLine(string.Format(inv, "| {0} | {1} | {2} | {3:F4} | {4:F4} | {5:F4} | {6:F4} | {7:F4} | {8:N0} | {9:N0} | {10:F3} | {11:F3} |",
                r.Model, r.Seed, r.BestEpoch, r.Test.Auc, r.Test.LogLoss, r.Test.Gauc, r.Test.Uauc, r.Valid.Auc,
                r.TrainSamplesPerSecond, r.InferenceSamplesPerSecond, r.Latency.P50Ms, r.Latency.P99Ms));
    }
}
