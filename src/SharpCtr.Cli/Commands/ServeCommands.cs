using System.CommandLine;
using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using SharpCtr.Data;
using SharpCtr.Serving.Bench;
using SharpCtr.Serving.Bundles;
using SharpCtr.Serving.Service;
using SharpCtr.Serving.Store;

namespace SharpCtr.Cli.Commands;

/// <summary>`sharpctr export`, `sharpctr serve` and `sharpctr bench serve`: putting a trained model behind HTTP.</summary>
public static class ServeCommands
{
    public static void AddTo(RootCommand root, Command bench)
    {
        root.Subcommands.Add(BuildExport());
        root.Subcommands.Add(BuildServe());
        bench.Subcommands.Add(BuildBench());
    }

    static Command BuildExport()
    {
        var runDir = new Argument<string>("run-dir") { Description = "a run folder written by `sharpctr train` (config.yaml, best.safetensors)" };
        var output = new Option<string>("--out") { Description = "bundle folder to create (must not exist or be empty)", Required = true };
        var dataDir = new Option<string?>("--data-dir") { Description = "data root (default $SHARPCTR_DATA, then ./data)" };
        var cmd = new Command("export", "Pack a trained run into a serving bundle (weights, config, vocabularies, attribute tables, manifest)") { runDir, output, dataDir };
        cmd.SetAction(parse =>
        {
            var m = BundleExporter.Export(parse.GetValue(runDir)!, parse.GetValue(output)!, DataRoot.Resolve(parse.GetValue(dataDir)));
            Console.WriteLine($"bundle {parse.GetValue(output)}: model {m.Model}, version {m.Version}, {m.Files.Count} files");
            return 0;
        });
        return cmd;
    }

    static Command BuildServe()
    {
        var bundle = new Option<string>("--bundle") { Description = "a bundle folder, or a folder of bundles (the newest is served; reload picks up new ones)", Required = true };
        var urls = new Option<string>("--urls") { Description = "listen addresses", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var store = new Option<string>("--store") { Description = "history store: sqlite:PATH or postgres:CONNECTION-STRING", DefaultValueFactory = _ => "sqlite:history.db" };
        var keep = new Option<int>("--keep-per-user") { Description = "events kept per user in the store", DefaultValueFactory = _ => 200 }.AtLeast(1);
        var maxCandidates = new Option<int>("--max-candidates") { Description = "most candidates per score request", DefaultValueFactory = _ => 1000 }.AtLeast(1);
        var maxBody = new Option<long>("--max-body-bytes") { Description = "largest request body", DefaultValueFactory = _ => 1 << 20 }.AtLeast(1);
        var timeout = new Option<int>("--timeout-ms") { Description = "per-request time limit", DefaultValueFactory = _ => 2000 }.AtLeast(1);
        var scoring = new Option<int>("--max-concurrent-scoring") { Description = "requests scored at once (default: CPU cores); the rest queue", DefaultValueFactory = _ => Environment.ProcessorCount }.AtLeast(1);
        var warmup = new Option<int>("--warmup-requests") { Description = "made-up requests each loaded bundle scores before it serves (JIT, tensor pool)", DefaultValueFactory = _ => 200 }.AtLeast(0);
        var lone = new Option<int>("--lone-request-threads") { Description = "threads a request may use while it is the only one being scored (1: one thread per request always)", DefaultValueFactory = _ => Math.Clamp(Environment.ProcessorCount, 1, 2) }.AtLeast(1);
        var cmd = new Command("serve", "Serve a bundle over HTTP: /v1/score, /v1/events, /v1/models, /healthz, /metrics, /openapi/v1.json")
            { bundle, urls, store, keep, maxCandidates, maxBody, timeout, scoring, warmup, lone };
        cmd.SetAction(parse =>
        {
            using var history = HistoryStores.Open(parse.GetValue(store)!, parse.GetValue(keep));
            var options = new ServingOptions
            {
                BundlePath = parse.GetValue(bundle)!, MaxCandidates = parse.GetValue(maxCandidates),
                MaxBodyBytes = parse.GetValue(maxBody), RequestTimeout = TimeSpan.FromMilliseconds(parse.GetValue(timeout)), MaxConcurrentScoring = parse.GetValue(scoring),
                WarmupRequests = parse.GetValue(warmup), LoneRequestThreads = parse.GetValue(lone),
            };
            var app = ServiceApp.Create(options, history, configure: b => b.WebHost.UseUrls(parse.GetValue(urls)!));
            Console.Error.WriteLine($"serving {options.BundlePath} on {parse.GetValue(urls)}, store {history.Describe}");
            app.Run();
            return 0;
        });
        return cmd;
    }

    static Command BuildBench()
    {
        var bundle = new Option<string>("--bundle") { Description = "bundle folder", Required = true };
        var concurrency = new Option<string>("-c") { Description = "concurrency levels, comma-separated", DefaultValueFactory = _ => "1,8,64" };
        var requests = new Option<int>("-n") { Description = "requests per level", DefaultValueFactory = _ => 10000 }.AtLeast(1);
        var candidates = new Option<int>("--candidates") { Description = "candidates per request", DefaultValueFactory = _ => 100 }.AtLeast(1);
        var timeout = new Option<int>("--timeout-ms") { Description = "the service's per-request limit (a closed loop of N clients queues N requests)", DefaultValueFactory = _ => 2000 }.AtLeast(1);
        var warmup = new Option<int>("--warmup-requests") { Description = "made-up requests the bundle scores at load, before the service's own warm-up traffic", DefaultValueFactory = _ => 200 }.AtLeast(0);
        var lone = new Option<int>("--lone-request-threads") { Description = "threads a request may use while it is the only one being scored", DefaultValueFactory = _ => Math.Clamp(Environment.ProcessorCount, 1, 2) }.AtLeast(1);
        var cmd = new Command("serve", "Load-test the scoring service on loopback: throughput, p50/p99 per concurrency level, errors, memory, per-stage times") { bundle, concurrency, requests, candidates, timeout, warmup, lone };
        cmd.SetAction(parse =>
        {
            var levels = parse.GetValue(concurrency)!.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            var report = ServeBenchmark.RunAsync(parse.GetValue(bundle)!, levels, parse.GetValue(requests), parse.GetValue(candidates), TimeSpan.FromMilliseconds(parse.GetValue(timeout)), parse.GetValue(warmup), parse.GetValue(lone), log: Console.Error).GetAwaiter().GetResult();
            Console.WriteLine(ServeBenchmark.Markdown(report));
            return report.Levels.Sum(l => l.Errors) == 0 ? 0 : 1;
        });
        return cmd;
    }
}
