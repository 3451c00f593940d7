using System.CommandLine;
using System.Diagnostics;
using SharpCtr.Data;
using SharpCtr.Data.Batching;
using SharpCtr.Data.Config;
using SharpCtr.Data.Encoded;
using SharpCtr.Data.Protocol;
using SharpCtr.Data.Raw;

namespace SharpCtr.Cli.Commands;

/// <summary>`sharpctr data prepare|stats` and `sharpctr bench data`.</summary>
public static class DataCommands
{
    static Option<string?> DataDirOption() => new("--data-dir") { Description = "Data root (default: $SHARPCTR_DATA, then ./data)" };
    static Option<string[]> SetOption() => new("--set") { Description = "Override a config key before validation: a.b=value (repeatable)", AllowMultipleArgumentsPerToken = false };
    static Option<string?> CacheDirOption() => new("--cache-dir") { Description = "Where encoded data sets are cached (default: cache_dir, $SHARPCTR_CACHE, ./.build/data-cache)" };

    public static Command Build()
    {
        var data = new Command("data", "Prepare data sets and show their statistics");
        data.Subcommands.Add(BuildPrepare());
        data.Subcommands.Add(BuildStats());
        return data;
    }

    static Command BuildPrepare()
    {
        var config = new Argument<string>("config") { Description = "A data.yaml (or an experiment YAML with a data section)" };
        var dataDir = DataDirOption(); var set = SetOption(); var cacheDir = CacheDirOption();
        var rebuild = new Option<bool>("--rebuild") { Description = "Rebuild the encoded cache even if it is up to date" };
        var printConfig = new Option<bool>("--print-config") { Description = "Print the resolved configuration as YAML" };
        var cmd = new Command("prepare", "Read, apply the protocol, encode and cache a data set") { config, dataDir, set, cacheDir, rebuild, printConfig };
        cmd.SetAction(p =>
        {
            var cfg = DataConfig.Load(p.GetValue(config)!, p.GetValue(set));
            if (p.GetValue(printConfig)) Console.Write(cfg.ResolvedYaml);
            var sw = Stopwatch.StartNew();
            var r = DatasetLoader.Load(cfg, DataRoot.Resolve(p.GetValue(dataDir)), p.GetValue(cacheDir), p.GetValue(rebuild));
            Console.WriteLine($"{(r.FromCache ? "up to date" : "prepared")}: {r.CachePath} ({sw.Elapsed.TotalSeconds:F2} s, {r.Dataset.Count:N0} samples, {r.Dataset.MemoryBytes / 1048576.0:F1} MiB encoded)");
            foreach (var kv in r.Dataset.Skipped) Console.WriteLine($"skipped: {kv.Value:N0} lines ({kv.Key})");
        });
        return cmd;
    }

    static Command BuildStats()
    {
        var config = new Argument<string>("config") { Description = "A data.yaml (or an experiment YAML with a data section)" };
        var dataDir = DataDirOption(); var set = SetOption(); var cacheDir = CacheDirOption();
        var json = new Option<bool>("--json") { Description = "Print one JSON object (users, items, interactions, positives, splits)" };
        var cmd = new Command("stats", "Users, items, interactions, positives and average sequence length, per split") { config, dataDir, set, cacheDir, json };
        cmd.SetAction(p =>
        {
            var cfg = DataConfig.Load(p.GetValue(config)!, p.GetValue(set));
            var r = DatasetLoader.Load(cfg, DataRoot.Resolve(p.GetValue(dataDir)), p.GetValue(cacheDir));
            var stats = DatasetStats.Compute(r.Dataset);
            Console.Write(p.GetValue(json) ? stats.ToJson() + Environment.NewLine : stats.ToText());
        });
        return cmd;
    }

    /// <summary>`sharpctr bench data [config]`: raw-parse rows/s, protocol time, cache write/load time, encoded memory, batch throughput.</summary>
    public static Command BuildBench()
    {
        var config = new Argument<string>("config") { Description = "Data config", DefaultValueFactory = _ => "configs/movielens-1m/data.yaml" };
        var dataDir = DataDirOption(); var set = SetOption();
        var repeats = new Option<int>("--repeats") { Description = "Repetitions of each timed step (best is reported)", DefaultValueFactory = _ => 3 }.AtLeast(1);
        var cmd = new Command("data", "Data layer: raw parse rows/s, cache load time, encoded memory, batches/s") { config, dataDir, set, repeats };
        cmd.SetAction(p =>
        {
            var cfg = DataConfig.Load(p.GetValue(config)!, p.GetValue(set));
            var root = DataRoot.Resolve(p.GetValue(dataDir));
            int reps = Math.Max(1, p.GetValue(repeats));
            RawData raw = null!;
            double parse = Best(reps, () => raw = DatasetLoader.ReadRaw(cfg, root));
            EncodedDataset ds = null!;
            double build = Best(reps, () => ds = ProtocolBuilder.Build(raw, cfg));
            var cacheDir = Path.Combine(Path.GetTempPath(), "sharpctr-bench-" + Environment.ProcessId);
            var cachePath = Path.Combine(cacheDir, "bench.bin");
            double write = Best(reps, () => DatasetCache.Write(cachePath, ds, "bench"));
            double load = Best(reps, () => { if (DatasetCache.TryRead(cachePath, "bench") == null) throw new InvalidOperationException("cache did not load"); });
            var files = new FileInfo(cachePath).Length;
            double hash = Best(reps, () => DatasetCache.Key(raw.SourceFiles, cfg.ResolvedYaml));
            var train = ds.Indices(Splits.Train);
            var loader = new BatchLoader(ds, train, 1024, shuffle: true, seed: 1);
            int batches = 0;
            double epoch = Best(reps, () => { foreach (var _ in loader.Epoch()) batches++; });
            Directory.Delete(cacheDir, true);
            Console.WriteLine($"data set          {cfg.Name} ({raw.RowCount:N0} raw rows, {ds.Count:N0} samples)");
            Console.WriteLine($"raw parse         {parse:F3} s  ({raw.RowCount / parse / 1e6:F2} M rows/s)");
            Console.WriteLine($"protocol+encode   {build:F3} s");
            Console.WriteLine($"cache write       {write:F3} s  ({files / 1048576.0:F1} MiB file)");
            Console.WriteLine($"cache load        {load:F3} s  (+ {hash:F3} s hashing the raw files for the cache key)");
            Console.WriteLine($"encoded memory    {ds.MemoryBytes / 1048576.0:F1} MiB (arrays; sequences stored once per user: {ds.Sequence?.Items.Length ?? 0:N0} history items)");
            Console.WriteLine($"train epoch       {epoch:F3} s  (batch 1024, shuffled: {train.Length / epoch / 1e6:F2} M samples/s)");
            Console.WriteLine($"machine           {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        });
        return cmd;
    }

    static double Best(int reps, Action a)
    {
        double best = double.MaxValue;
        for (int i = 0; i < reps; i++)
        {
            var sw = Stopwatch.StartNew();
            a();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }
}
