using System.CommandLine;
using System.Globalization;
using SharpCtr.Serving.Scoring;
using SharpCtr.Serving.Service;
using SharpCtr.Serving.Store;

namespace SharpCtr.Cli.Commands;

/// <summary>`sharpctr score &lt;bundle&gt; &lt;requests.jsonl&gt;`: the service's scoring over a file of requests, offline.</summary>
public static class ScoreCommands
{
    public static Command Build()
    {
        var bundle = new Argument<string>("bundle") { Description = "a bundle folder, or a folder of bundles (the newest is used), written by `sharpctr export`" };
        var requests = new Argument<string>("requests") { Description = "JSON-lines file: one POST /v1/score body per line (gzip-compressed when it ends in .gz)" };
        var output = new Option<string?>("--out") { Description = "JSON-lines answers, one per request in input order; gzip-compressed when it ends in .gz (default: REQUESTS' stem + .scores.jsonl[.gz])" };
        var store = new Option<string?>("--store") { Description = "history store for requests without \"history\": sqlite:PATH or postgres:CONNECTION-STRING (default: none, such requests score with an empty history)" };
        var onError = new Option<string>("--on-error") { Description = "a refused request: fail (stop, write nothing) or skip (an error line in the output)", DefaultValueFactory = _ => "fail" };
        onError.AcceptOnlyFromAmong("fail", "skip");
        var maxCandidates = new Option<int>("--max-candidates") { Description = "most candidates per request", DefaultValueFactory = _ => 1000 }.AtLeast(1);
        var now = new Option<long?>("--now") { Description = "unix seconds for requests without context.timestamp (default: the current time)" };
        now.Validators.Add(r => { if (r.GetValueOrDefault<long?>() is < 0) r.AddError("--now must be unix seconds, 0 or more"); });
        var threads = new Option<int>("--threads") { Description = "requests scored at once", DefaultValueFactory = _ => Math.Clamp(Environment.ProcessorCount, 1, 2) }.AtLeast(1);
        var cmd = new Command("score", "Score a JSON-lines file of requests with a bundle, as the service would (no HTTP); write one JSON answer per request")
            { bundle, requests, output, store, onError, maxCandidates, now, threads };
        cmd.SetAction(parse =>
        {
            var model = new BundleHost(parse.GetValue(bundle)!).Current;
            var input = parse.GetValue(requests)!;
            var outPath = parse.GetValue(output) ?? RequestFileScorer.DefaultOutputPath(input);
            var spec = parse.GetValue(store);
            // a misspelt path would open a new, empty database and score every user as new
            if (spec is not null && spec.StartsWith("sqlite:", StringComparison.Ordinal) && !File.Exists(spec["sqlite:".Length..]))
                throw new FileNotFoundException($"--store {spec}: no such SQLite file (the service creates it; scoring offline reads an existing one)");
            using var history = spec is not null ? HistoryStores.Open(spec, keepPerUser: 200) : null;
            var options = new RequestFileScorer.Options
            {
                Store = history, SkipRefused = parse.GetValue(onError) == "skip", MaxCandidates = parse.GetValue(maxCandidates),
                NowSeconds = parse.GetValue(now) ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Threads = parse.GetValue(threads),
            };
            var s = RequestFileScorer.Run(model, input, outPath, options);
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Format(inv, "{0} version {1}: {2:N0} requests, {3:N0} candidates in {4:F1} s ({5:N0} requests/s); {6:N0} refused, {7:N0} without a history (none in the request, none in the store)",
                model.ModelName, model.Version, s.Requests, s.Candidates, s.Seconds, s.Requests / Math.Max(s.Seconds, 1e-9), s.Refused, s.WithoutHistory));
            Console.WriteLine($"written: {outPath}");
        });
        return cmd;
    }
}
