using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SharpCtr.Serving.Bundles;
using SharpCtr.Serving.Scoring;
using SharpCtr.Serving.Store;
using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Serving.Service;

/// <summary>
/// The scoring service as an ASP.NET Core minimal-API application. Endpoints: POST /v1/score,
/// POST /v1/events, GET /healthz, GET /v1/models[/{name}], GET /metrics, POST /v1/admin/reload,
/// GET /openapi/v1.json. Bad input of any kind is a 4xx with an RFC 7807 problem body.
/// </summary>
public static class ServiceApp
{
    /// <param name="configure">extra builder setup (tests plug the in-memory test server in here).</param>
    public static WebApplication Create(ServingOptions options, IHistoryStore store, string[]? args = null, Action<WebApplicationBuilder>? configure = null)
    {
        // Requests run in parallel, one thread each; splitting one request's small GEMMs over
        // threads would only make them compete. Set before the first bundle warms up. A request
        // scored while no other is may still use LoneRequestThreads (see below).
        KernelThreads.Max = 1;
        int scoringNow = 0;
        var host = new BundleHost(options.BundlePath, options.WarmupRequests);
        var metrics = new ServiceMetrics();
        var scoring = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentScoring));

        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxBodyBytes);
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton(metrics);
        configure?.Invoke(builder);
        var app = builder.Build();

        app.Use(async (ctx, next) =>
        {
            long t0 = Stopwatch.GetTimestamp();
            try { await next(ctx); }
            finally
            {
                var route = (ctx.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
                metrics.Record(route, ctx.Response.StatusCode, Stopwatch.GetElapsedTime(t0).TotalSeconds);
            }
        });
        app.UseExceptionHandler();
        app.MapOpenApi();

        app.MapPost("/v1/score", (Func<HttpContext, Task<IResult>>)(ctx => Guarded(ctx, options, async ct =>
            {
                var bundle = host.Current;   // read once: this request finishes on this bundle whatever reloads happen
                var stages = metrics.Stages;
                long t = Stopwatch.GetTimestamp();
                var request = await ReadJson<ScoreRequest>(ctx, options);
                Scorer.CheckModel(bundle, request);
                var input = ScoreInput.From(request, options.MaxCandidates);
                t = stages.Add(StageTimes.Stage.Parse, t);
                if (bundle.Schema.Sequence is { } seq && input.History is null)
                {
                    var events = await store.RecentAsync(input.UserId, seq.MaxLen, ct);
                    input.History = events.ConvertAll(e => new ItemInput(e.ItemId, e.Attributes));
                    t = stages.Add(StageTimes.Stage.History, t);
                }
                float[] scores;
                await scoring.WaitAsync(ct);
                try
                {
                    t = stages.Add(StageTimes.Stage.Queue, t);
                    var batch = bundle.Encoder.Encode(input, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
                    t = stages.Add(StageTimes.Stage.Encode, t);
                    bool alone = Interlocked.Increment(ref scoringNow) == 1;
                    try
                    {
                        using (KernelThreads.Allow(alone ? options.LoneRequestThreads : 1))
                            scores = Scorer.Score(bundle, batch);
                    }
                    finally { Interlocked.Decrement(ref scoringNow); }
                    t = stages.Add(StageTimes.Stage.Forward, t);
                }
                finally { scoring.Release(); }
                metrics.AddScored(scores.Length);
                var body = JsonSerializer.SerializeToUtf8Bytes(new ScoreResponse(bundle.ModelName, bundle.Version, scores, Scorer.HistoryLength(bundle, input), input.RequestId));
                stages.Add(StageTimes.Stage.Write, t);
                stages.CountRequest();
                return Results.Bytes(body, "application/json; charset=utf-8");
            })))
            .WithName("Score").Accepts<ScoreRequest>("application/json").Produces<ScoreResponse>()
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(413).ProducesProblem(503);

        app.MapPost("/v1/events", (Func<HttpContext, Task<IResult>>)(ctx => Guarded(ctx, options, async ct =>
            {
                var request = await ReadJson<EventsRequest>(ctx, options);
                var events = ScoreInput.Events(request, options.MaxEvents, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
                await store.AppendAsync(events, ct);
                return Results.Json(new EventsResponse(events.Count));
            })))
            .WithName("AppendEvents").Accepts<EventsRequest>("application/json").Produces<EventsResponse>()
            .ProducesProblem(400).ProducesProblem(413).ProducesProblem(503);

        app.MapGet("/healthz", () =>
        {
            var b = host.Current;
            return Results.Json(new { status = "ok", model = b.ModelName, version = b.Version });
        }).WithName("Health");

        app.MapGet("/v1/models", () => Results.Json(new { models = new[] { Describe(host.Current) }, available = host.Available(), store = store.Describe }))
            .WithName("Models");

        app.MapGet("/v1/models/{name}", (string name) =>
        {
            var b = host.Current;
            return name == b.ModelName || name == b.Version
                ? Results.Json(Describe(b))
                : Results.Problem(statusCode: 404, title: "unknown model", detail: $"'{name}' is not loaded (serving {b.ModelName} version {b.Version})");
        }).WithName("Model").ProducesProblem(404);

        app.MapGet("/metrics", () => Results.Text(metrics.Render(host.Current.ModelName, host.Current.Version, host.Reloads), "text/plain; version=0.0.4; charset=utf-8"))
            .WithName("Metrics");

        app.MapPost("/v1/admin/reload", (HttpContext ctx, string? bundle) => Guarded(ctx, options, _ =>
            {
                var previous = host.Current;
                try
                {
                    var next = host.Reload(bundle);
                    return Task.FromResult(Results.Json(new { model = next.ModelName, version = next.Version, previous = previous.Version }));
                }
                catch (BundleException e) { throw new RequestException(422, "bundle rejected", e.Message + $" (still serving {previous.Version})"); }
            }))
            .WithName("Reload").ProducesProblem(404).ProducesProblem(422);

        return app;
    }

    static object Describe(ModelBundle b) => new
    {
        name = b.ModelName, version = b.Version, experiment = b.Manifest.Experiment, dataset = b.Manifest.Dataset,
        created = b.Manifest.Created, format_version = b.Manifest.FormatVersion, files = b.Manifest.Files,
        fields = b.Schema.Fields.Select(f => new { name = f.Name, kind = f.Kind, source = f.Source }),
        sequence = b.Schema.Sequence is { } s ? new { name = s.Name, source = s.Source, max_len = s.MaxLen } : null,
    };

    /// <summary>Runs a handler under the request timeout; refusals become problem responses.</summary>
    static async Task<IResult> Guarded(HttpContext ctx, ServingOptions options, Func<CancellationToken, Task<IResult>> handler)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        timeout.CancelAfter(options.RequestTimeout);
        try { return await handler(timeout.Token); }
        catch (RequestException e) { return Results.Problem(statusCode: e.Status, title: e.Title, detail: e.Message); }
        catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested)
        {
            return Results.Problem(statusCode: 503, title: "timed out", detail: $"the request took longer than {options.RequestTimeout.TotalMilliseconds:F0} ms");
        }
    }

    /// <summary>Reads at most MaxBodyBytes and parses them strictly.</summary>
    static async Task<T> ReadJson<T>(HttpContext ctx, ServingOptions options) where T : class
    {
        var req = ctx.Request;
        if (req.ContentLength > options.MaxBodyBytes) throw TooLarge(options);
        // one pooled buffer per request, grown by doubling: no per-request chunk or stream allocation
        var buffer = ArrayPool<byte>.Shared.Rent(req.ContentLength is > 0 and var known ? (int)known + 1 : 16 * 1024);
        int length = 0;
        try
        {
            try
            {
                int n;
                while ((n = await req.Body.ReadAsync(buffer.AsMemory(length), ctx.RequestAborted)) > 0)
                {
                    length += n;
                    if (length > options.MaxBodyBytes) throw TooLarge(options);
                    if (length == buffer.Length)
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                }
            }
            catch (BadHttpRequestException e) when (e.StatusCode == 413) { throw TooLarge(options); }
            return RequestJson.Parse<T>(buffer.AsSpan(0, length));
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    static RequestException TooLarge(ServingOptions o) => new(413, "body too large", $"the request body is over the limit of {o.MaxBodyBytes} bytes");
}
