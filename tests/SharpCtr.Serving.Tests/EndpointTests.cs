using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SharpCtr.Serving.Bundles;
using SharpCtr.Serving.Store;

namespace SharpCtr.Serving.Tests;

[Collection(ServingCollection.Name)]
public sealed class EndpointTests(ServingFixture fx)
{
    static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        return problem;
    }

    [Fact]
    public async Task ARequestIdIsEchoedAndAMalformedOneRefused()
    {
        await using var service = await fx.StartAsync(fx.BundleV1);
        var c = service.Client;
        async Task<JsonElement> Answer(string body)
        {
            var response = await c.PostAsync("/v1/score", Json(body));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, text);
            return JsonDocument.Parse(text).RootElement.Clone();
        }
        Assert.Equal("req-7", (await Answer("""{"user_id": "3", "request_id": "req-7", "candidates": [{"item_id": "5"}]}""")).GetProperty("request_id").GetString());
        Assert.Equal("42", (await Answer("""{"user_id": "3", "request_id": 42, "candidates": [{"item_id": "5"}]}""")).GetProperty("request_id").GetString());
        Assert.False((await Answer("""{"user_id": "3", "candidates": [{"item_id": "5"}]}""")).TryGetProperty("request_id", out _));
        var problem = await ProblemAsync(await c.PostAsync("/v1/score", Json("""{"user_id": "3", "request_id": {"a": 1}, "candidates": [{"item_id": "5"}]}""")), HttpStatusCode.BadRequest);
        Assert.Contains("request_id", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task HealthModelsMetricsAndOpenApiAnswer()
    {
        await using var service = await fx.StartAsync(fx.BundleV1);
        var c = service.Client;
        var version = ModelBundle.Load(fx.BundleV1).Version;

        var health = JsonDocument.Parse(await c.GetStringAsync("/healthz")).RootElement;
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(version, health.GetProperty("version").GetString());

        var models = JsonDocument.Parse(await c.GetStringAsync("/v1/models")).RootElement;
        var m = models.GetProperty("models")[0];
        Assert.Equal("din", m.GetProperty("name").GetString());
        Assert.Equal(version, m.GetProperty("version").GetString());
        Assert.Equal(BundleManifest.CurrentFormat, m.GetProperty("format_version").GetInt32());
        Assert.True(m.GetProperty("files").TryGetProperty("weights.safetensors", out _));
        Assert.StartsWith("sqlite:", models.GetProperty("store").GetString());
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("/v1/models/din")).StatusCode);
        await ProblemAsync(await c.GetAsync("/v1/models/deepfm"), HttpStatusCode.NotFound);

        await SampleRequests.ScoreAsync(c, SampleRequests.Body("3", ["5", "6"]));
        await c.PostAsync("/v1/score", Json("{"));
        var metrics = await c.GetStringAsync("/metrics");
        Assert.Contains("sharpctr_http_requests_total{route=\"/v1/score\",status=\"200\"} 1", metrics);
        Assert.Contains("sharpctr_http_requests_total{route=\"/v1/score\",status=\"400\"} 1", metrics);
        Assert.Contains("sharpctr_http_request_errors_total{route=\"/v1/score\"} 1", metrics);
        Assert.Contains("sharpctr_http_request_duration_seconds_count{route=\"/v1/score\"} 2", metrics);
        Assert.Contains("sharpctr_http_request_duration_seconds_bucket{route=\"/v1/score\",le=\"+Inf\"} 2", metrics);
        Assert.Contains("sharpctr_scored_candidates_total 2", metrics);
        Assert.Contains($"sharpctr_bundle_info{{model=\"din\",version=\"{version}\"}} 1", metrics);

        var openapi = JsonDocument.Parse(await c.GetStringAsync("/openapi/v1.json")).RootElement;
        var paths = openapi.GetProperty("paths");
        foreach (var p in new[] { "/v1/score", "/v1/events", "/v1/models", "/healthz", "/metrics", "/v1/admin/reload" })
            Assert.True(paths.TryGetProperty(p, out _), $"OpenAPI document lacks {p}");
    }

    [Fact]
    public async Task EventsAreTheNextScoresHistory()
    {
        await using var service = await fx.StartAsync(fx.BundleV1);
        var c = service.Client;
        string[] clicked = ["12", "7", "30"];
        var events = new { events = clicked.Select((item, k) => new { user_id = "42", item_id = item, action = "click", timestamp = 1_700_000_000 + k }).ToArray() };
        var appended = await c.PostAsJsonAsync("/v1/events", events);
        Assert.Equal(HttpStatusCode.OK, appended.StatusCode);
        Assert.Equal(3, JsonDocument.Parse(await appended.Content.ReadAsStringAsync()).RootElement.GetProperty("appended").GetInt32());

        var fromStore = await SampleRequests.ScoreAsync(c, SampleRequests.Body("42", ["1", "2", "3"]));
        var explicitHistory = await SampleRequests.ScoreAsync(c, SampleRequests.Body("42", ["1", "2", "3"], clicked));
        var noHistory = await SampleRequests.ScoreAsync(c, SampleRequests.Body("42", ["1", "2", "3"], []));
        Assert.Equal(3, fromStore.HistoryLength);
        Assert.Equal(explicitHistory.Scores, fromStore.Scores);
        Assert.NotEqual(noHistory.Scores, fromStore.Scores);
        // integer ids are the same ids as their decimal strings, in candidates and in the history
        var integers = new { user_id = 42, candidates = new object[] { new { item_id = 1 }, new { item_id = "2" }, new { item_id = 3 } },
                             history = clicked.Select(h => new { item_id = int.Parse(h) }).ToArray() };
        Assert.Equal(explicitHistory.Scores, (await SampleRequests.ScoreAsync(c, integers)).Scores);
        Assert.Equal(0, noHistory.HistoryLength);
    }

    [Theory]
    [InlineData("{", "malformed JSON")]
    [InlineData("{\"user_id\": \"1\", \"candidates\": [{\"item_id\": \"2\"}], \"context\": {\"timestamp\": NaN}}", "malformed JSON")]
    [InlineData("null", "malformed JSON")]
    [InlineData("[1, 2]", "malformed JSON")]
    [InlineData("{\"candidates\": [{\"item_id\": \"2\"}]}", "user_id")]
    [InlineData("{\"user_id\": \"\", \"candidates\": [{\"item_id\": \"2\"}]}", "user_id")]
    [InlineData("{\"user_id\": \"1\"}", "candidates")]
    [InlineData("{\"user_id\": \"1\", \"candidates\": []}", "candidates")]
    [InlineData("{\"user_id\": \"1\", \"candidates\": [null]}", "candidates[0]")]
    [InlineData("{\"user_id\": \"1\", \"candidates\": [{\"genre\": \"Drama\"}]}", "candidates[0].item_id")]
    [InlineData("{\"user_id\": \"1\", \"candidates\": [{\"item_id\": {\"a\": 1}}]}", "candidates[0].item_id")]
    [InlineData("{\"user_id\": \"1\", \"candidates\": [{\"item_id\": 1.5}]}", "candidates[0].item_id")]
    [InlineData("{\"user_id\": \"1\", \"candidates\": [{\"item_id\": \"\"}]}", "candidates[0].item_id")]
    [InlineData("{\"user_id\": \"1\", \"candidates\": [{\"item_id\": \"2\"}, {\"item_id\": true}]}", "candidates[1].item_id")]
    [InlineData("{\"user_id\": \"1\", \"candidates\": [\"5\"]}", "candidates[0]")]
    [InlineData("{\"user_id\": \"1\", \"candidates\": [{\"item_id\": \"2\", \"genre\": {\"x\": 1}}]}", "candidates[0].genre")]
    [InlineData("{\"user_id\": \"1\", \"candidates\": [{\"item_id\": \"2\"}], \"context\": {\"timestamp\": \"NaN\"}}", "context.timestamp")]
    [InlineData("{\"user_id\": \"1\", \"candidates\": [{\"item_id\": \"2\"}], \"context\": {\"timestamp\": -5}}", "context.timestamp")]
    [InlineData("{\"user_id\": \"1\", \"candidate\": [{\"item_id\": \"2\"}]}", "candidate")]
    [InlineData("{\"user_id\": \"1\", \"candidates\": [{\"item_id\": \"2\"}], \"history\": \"7\"}", "malformed JSON")]
    public async Task BadScoreRequestsAreProblems(string body, string mentioned)
    {
        await using var service = await fx.StartAsync(fx.BundleV1);
        var response = await service.Client.PostAsync("/v1/score", Json(body));
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(mentioned, problem.GetProperty("title").GetString() + " " + problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task LimitsAndUnknownModelsAreProblems()
    {
        await using var service = await fx.StartAsync(fx.BundleV1);
        var c = service.Client;
        var tooMany = SampleRequests.Body("1", Enumerable.Range(1, 201).Select(i => i.ToString()));
        await ProblemAsync(await c.PostAsJsonAsync("/v1/score", tooMany), HttpStatusCode.RequestEntityTooLarge);
        var huge = "{\"user_id\": \"1\", \"query\": \"" + new string('x', 70 * 1024) + "\", \"candidates\": [{\"item_id\": \"2\"}]}";
        await ProblemAsync(await c.PostAsync("/v1/score", Json(huge)), HttpStatusCode.RequestEntityTooLarge);
        var unknown = await ProblemAsync(await c.PostAsJsonAsync("/v1/score", SampleRequests.Body("1", ["2"], model: "genci")), HttpStatusCode.NotFound);
        Assert.Contains("genci", unknown.GetProperty("detail").GetString());
        // naming the served model or its version is fine
        await SampleRequests.ScoreAsync(c, SampleRequests.Body("1", ["2"], model: "din"));
        await SampleRequests.ScoreAsync(c, SampleRequests.Body("1", ["2"], model: ModelBundle.Load(fx.BundleV1).Version));

        await ProblemAsync(await c.PostAsync("/v1/events", Json("{\"events\": []}")), HttpStatusCode.BadRequest);
        await ProblemAsync(await c.PostAsync("/v1/events", Json("{\"events\": [{\"user_id\": \"1\"}]}")), HttpStatusCode.BadRequest);
        await ProblemAsync(await c.PostAsync("/v1/events", Json("{\"events\": [{\"user_id\": \"1\", \"item_id\": \"2\", \"timestamp\": 1e300}]}")), HttpStatusCode.BadRequest);
        await ProblemAsync(await c.PostAsync("/v1/events", Json("nope")), HttpStatusCode.BadRequest);

        var metrics = await c.GetStringAsync("/metrics");
        Assert.DoesNotContain("status=\"500\"", metrics);
    }

    /// <summary>A store that never answers: the request must give up at its deadline.</summary>
    sealed class StuckStore : IHistoryStore
    {
        public int KeepPerUser => 10;
        public string Describe => "stuck";
        public Task AppendAsync(IReadOnlyList<BehaviorEvent> events, CancellationToken ct) => Task.Delay(Timeout.Infinite, ct);
        public async Task<List<BehaviorEvent>> RecentAsync(string userId, int limit, CancellationToken ct) { await Task.Delay(Timeout.Infinite, ct); return []; }
        public void Dispose() { }
    }

    [Fact]
    public async Task SlowRequestsTimeOutWithAProblem()
    {
        await using var service = await fx.StartAsync(fx.BundleV1, new StuckStore(), o => new() { BundlePath = o.BundlePath, RequestTimeout = TimeSpan.FromMilliseconds(100) });
        var problem = await ProblemAsync(await service.Client.PostAsJsonAsync("/v1/score", SampleRequests.Body("1", ["2"])), HttpStatusCode.ServiceUnavailable);
        Assert.Contains("100 ms", problem.GetProperty("detail").GetString());
        // with the history in the request the store is not asked
        await SampleRequests.ScoreAsync(service.Client, SampleRequests.Body("1", ["2"], ["3"]));
    }
}
