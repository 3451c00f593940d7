using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using SharpCtr.Serving.Bundles;
using SharpCtr.Serving.Service;
using SharpCtr.Serving.Store;

namespace SharpCtr.Serving.Bench;

/// <summary>
/// `sharpctr bench serve`: starts the service on a loopback port in this process (SQLite store
/// in a temporary folder, seeded with histories), then drives it with <see cref="LoadGenerator"/>
/// at each concurrency level. Requests: a random known user and <c>candidates</c> random items.
/// </summary>
public static class ServeBenchmark
{
    public sealed record Memory(long WorkingSetBytes, long ManagedHeapBytes);
    /// <param name="After">memory after each level, in order.</param>
    /// <param name="StageMs">per level: mean ms per request of each <see cref="StageTimes.Names"/> stage, measured inside the handler.</param>
    /// <param name="Gc">per level: collections and managed bytes allocated during it (the whole process: service and in-process client).</param>
    public sealed record Report(string Model, string Version, int Candidates, TimeSpan Timeout, List<LoadGenerator.Result> Levels, Memory Before, List<Memory> After, List<double[]> StageMs, string Machine,
        List<GcActivity> Gc);

    /// <summary>Garbage collections by generation and bytes allocated over one level.</summary>
    public sealed record GcActivity(int Gen0, int Gen1, int Gen2, long AllocatedBytes)
    {
        public static GcActivity Now() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalAllocatedBytes(precise: true));
        public GcActivity Since(GcActivity start) => new(Gen0 - start.Gen0, Gen1 - start.Gen1, Gen2 - start.Gen2, AllocatedBytes - start.AllocatedBytes);
    }

    /// <param name="timeout">the service's per-request limit; a closed loop of N clients queues N requests, so high
    /// concurrency on a small machine needs more than the 2 s default to measure latency rather than load shedding.</param>
    public static async Task<Report> RunAsync(string bundleDir, int[] concurrency, int requests, int candidates, TimeSpan timeout, int warmupRequests = 200, int loneRequestThreads = 2, int users = 500, int historyPerUser = 30, int seed = 1, TextWriter? log = null)
    {
        var storeDir = Path.Combine(Path.GetTempPath(), "sharpctr-bench-serve-" + Guid.NewGuid().ToString("N")[..8]);
        using var store = new SqliteHistoryStore(Path.Combine(storeDir, "history.db"), keepPerUser: 200);
        var app = ServiceApp.Create(new ServingOptions { BundlePath = bundleDir, MaxCandidates = Math.Max(1000, candidates), RequestTimeout = timeout, WarmupRequests = warmupRequests, LoneRequestThreads = loneRequestThreads }, store,
            configure: b => b.WebHost.UseUrls("http://127.0.0.1:0"));
        await app.StartAsync();
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var bundle = ModelBundle.Load(bundleDir);
            var rng = new Random(seed);
            var items = ItemKeys(bundle);
            var userIds = Enumerable.Range(1, users).Select(u => "bench-" + u.ToString(CultureInfo.InvariantCulture)).ToArray();
            await SeedHistories(store, userIds, items, historyPerUser, rng);
            var bodies = new List<byte[]>(256);
            for (int b = 0; b < 256; b++) bodies.Add(RequestBody(bundle, userIds[rng.Next(userIds.Length)], items, candidates, rng));

            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Math.Max(1, concurrency.Max()), PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
            using var client = new HttpClient(handler) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
            // warm-up: tiered JIT promotes the scoring code; connections open
            for (var clock = Stopwatch.StartNew(); clock.Elapsed.TotalSeconds < 2;) await LoadGenerator.RunAsync(client, "/v1/score", bodies, 2, 100);
            var before = MeasureMemory();
            log?.WriteLine($"memory before: working set {before.WorkingSetBytes / 1048576.0:F1} MiB, managed heap {before.ManagedHeapBytes / 1048576.0:F1} MiB");
            var levels = new List<LoadGenerator.Result>();
            var after = new List<Memory>();
            var stageMs = new List<double[]>();
            var gc = new List<GcActivity>();
            var stages = app.Services.GetRequiredService<ServiceMetrics>().Stages;
            foreach (int c in concurrency)
            {
                var start = stages.Read();
                var gcStart = GcActivity.Now();
                var r = await LoadGenerator.RunAsync(client, "/v1/score", bodies, c, requests);
                gc.Add(GcActivity.Now().Since(gcStart));
                stageMs.Add(stages.Read().MeanMsSince(start));
                after.Add(MeasureMemory());
                log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"c={c}: {r.RequestsPerSecond:F0} req/s, p50 {r.P50Ms:F3} ms, p99 {r.P99Ms:F3} ms, errors {r.Errors}{(r.FirstError is null ? "" : $" (first: {r.FirstError})")}"));
                levels.Add(r);
            }
            return new Report(bundle.ModelName, bundle.Version, candidates, timeout, levels, before, after, stageMs,
                $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, GEMM {SharpCtr.Tensors.Kernels.Gemm.Backend}", gc);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            try { Directory.Delete(storeDir, recursive: true); } catch (IOException) { }
        }
    }

    static string GcMode() =>
        $"{(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}, latency mode {System.Runtime.GCSettings.LatencyMode}";

    static Memory MeasureMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var p = Process.GetCurrentProcess();
        return new Memory(p.WorkingSet64, GC.GetTotalMemory(false));
    }

    /// <summary>Items the model knows: the item table's keys, else the item_id vocabulary.</summary>
    static string[] ItemKeys(ModelBundle b)
    {
        if (b.Items.Entities.Count > 0) return b.Items.Entities.Keys.Order(StringComparer.Ordinal).ToArray();
        var source = b.Schema.Sequence?.Source ?? "item_id";
        return b.Vocabulary(source).Tokens.ToArray();
    }

    static async Task SeedHistories(IHistoryStore store, string[] users, string[] items, int perUser, Random rng)
    {
        var events = new List<BehaviorEvent>();
        var none = new Dictionary<string, string[]>();
        foreach (var u in users)
        {
            for (int k = 0; k < perUser; k++) events.Add(new BehaviorEvent(u, items[rng.Next(items.Length)], "click", 1_700_000_000 + k, none));
            if (events.Count >= 1000) { await store.AppendAsync(events, CancellationToken.None); events.Clear(); }
        }
        if (events.Count > 0) await store.AppendAsync(events, CancellationToken.None);
    }

    /// <summary>A user and random candidates; a query and context / scene values drawn from the vocabularies when the model reads them (CDP on search logs).</summary>
    static byte[] RequestBody(ModelBundle bundle, string user, string[] items, int candidates, Random rng)
    {
        string? Token(string source) =>
            bundle.TryVocabulary(source, out var v) && v.Tokens.Count > 0 ? v.Tokens[rng.Next(v.Tokens.Count)] : null;
        var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("user_id", user);
            if (Token("row.query") is { } q1) w.WriteString("query", q1 + " " + Token("row.query"));
            foreach (var group in new[] { "context", "scene" })
            {
                var prefix = $"row.{group}.";
                var keys = bundle.Schema.Fields.Where(f => f.Source.StartsWith(prefix, StringComparison.Ordinal)).Select(f => f.Source).ToList();
                if (keys.Count == 0) continue;
                w.WriteStartObject(group);
                foreach (var k in keys) if (Token(k) is { } t) w.WriteString(k[prefix.Length..], t);
                w.WriteEndObject();
            }
            w.WriteStartArray("candidates");
            for (int i = 0; i < candidates; i++) { w.WriteStartObject(); w.WriteString("item_id", items[rng.Next(items.Length)]); w.WriteEndObject(); }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    public static string Markdown(Report r)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"{r.Model} (bundle {r.Version}), {r.Candidates} candidates per request, history from SQLite, request timeout {r.Timeout.TotalSeconds:F0} s; {r.Machine}\n\n");
        sb.Append("| concurrency | requests | errors | requests/s | p50 ms | p99 ms | mean ms | working set after, MiB | managed heap after, MiB |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int i = 0; i < r.Levels.Count; i++)
        {
            var l = r.Levels[i];
            sb.Append(inv, $"| {l.Concurrency} | {l.Requests:N0} | {l.Errors} | {l.RequestsPerSecond:N0} | {l.P50Ms:F3} | {l.P99Ms:F3} | {l.MeanMs:F3} | {r.After[i].WorkingSetBytes / 1048576.0:F1} | {r.After[i].ManagedHeapBytes / 1048576.0:F1} |\n");
        }
        sb.Append(inv, $"\nBefore the first level (after warm-up and a full GC): working set {r.Before.WorkingSetBytes / 1048576.0:F1} MiB, managed heap {r.Before.ManagedHeapBytes / 1048576.0:F1} MiB.\n");
        sb.Append("\nWhere a request's time goes inside the handler (mean ms per request; the rest of the client's latency is Kestrel, HTTP and the load generator):\n\n| concurrency |");
        foreach (var name in StageTimes.Names) sb.Append(inv, $" {name} |");
        sb.Append(" sum |\n|---:|");
        foreach (var _ in StageTimes.Names) sb.Append("---:|");
        sb.Append("---:|\n");
        for (int i = 0; i < r.Levels.Count; i++)
        {
            sb.Append(inv, $"| {r.Levels[i].Concurrency} |");
            foreach (var ms in r.StageMs[i]) sb.Append(inv, $" {ms:F3} |");
            sb.Append(inv, $" {r.StageMs[i].Sum():F3} |\n");
        }
        sb.Append("\nGarbage collection per level (the whole process: the service and the in-process load generator):\n\n");
        sb.Append("| concurrency | gen0 / gen1 / gen2 collections | per 1,000 requests (gen0) | KiB allocated per request |\n|---:|---:|---:|---:|\n");
        for (int i = 0; i < r.Levels.Count; i++)
        {
            var g = r.Gc[i];
            int n = Math.Max(1, r.Levels[i].Requests);
            sb.Append(inv, $"| {r.Levels[i].Concurrency} | {g.Gen0} / {g.Gen1} / {g.Gen2} | {1000.0 * g.Gen0 / n:F1} | {g.AllocatedBytes / 1024.0 / n:F1} |\n");
        }
        sb.Append(inv, $"\nAt the end: working set {r.After[^1].WorkingSetBytes / 1048576.0:F1} MiB, managed heap {r.After[^1].ManagedHeapBytes / 1048576.0:F1} MiB (after a full GC), GC {GcMode()}.\n");
        return sb.ToString();
    }
}
