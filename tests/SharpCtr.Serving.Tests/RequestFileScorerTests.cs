using System.Text.Json;
using SharpCtr.Data.Encoded;
using SharpCtr.Serving.Bundles;
using SharpCtr.Serving.Scoring;
using SharpCtr.Serving.Store;

namespace SharpCtr.Serving.Tests;

[Collection(ServingCollection.Name)]
public sealed class RequestFileScorerTests(ServingFixture fx)
{
    static readonly JsonSerializerOptions OmitNulls = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Requests of several candidates each, built from test rows: user, history, and the items of the next rows.</summary>
    object[] Requests(int count)
    {
        var data = fx.Data.Dataset;
        var test = data.Indices(Splits.Test);
        return Enumerable.Range(0, count).Select(k =>
        {
            int s = test[k * (test.Length / count)];
            var items = Enumerable.Range(0, 1 + k % 5).Select(j => SampleRequests.Item(data, test[(k * 7 + j) % test.Length])).ToArray();
            return SampleRequests.Body(SampleRequests.User(data, s), items, SampleRequests.History(data, s));
        }).ToArray();
    }

    string WriteLines(IEnumerable<string> lines)
    {
        var path = Path.Combine(fx.NewDir("requests"), "requests.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    static List<JsonElement> ReadAnswers(string path) =>
        File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    static float[] Scores(JsonElement answer) => answer.GetProperty("scores").EnumerateArray().Select(e => e.GetSingle()).ToArray();

    [Fact]
    public async Task ScoresEqualTheServicesForEveryLine()
    {
        var requests = Requests(30);
        var path = WriteLines(requests.Select(r => JsonSerializer.Serialize(r, OmitNulls)));
        var output = Path.Combine(Path.GetDirectoryName(path)!, "answers.jsonl");
        var bundle = ModelBundle.Load(fx.BundleV1);

        var summary = RequestFileScorer.Run(bundle, path, output, new RequestFileScorer.Options { NowSeconds = 0, Threads = 2 });

        Assert.Equal(30, summary.Requests);
        Assert.Equal(0, summary.Refused);
        var answers = ReadAnswers(output);
        Assert.Equal(30, answers.Count);
        await using var service = await fx.StartAsync(fx.BundleV1);
        for (int k = 0; k < requests.Length; k++)
        {
            var (version, expected, historyLength) = await SampleRequests.ScoreAsync(service.Client, requests[k]);
            Assert.Equal(k + 1, answers[k].GetProperty("line").GetInt32());
            Assert.Equal(version, answers[k].GetProperty("version").GetString());
            Assert.Equal(historyLength, answers[k].GetProperty("history_length").GetInt32());
            var got = Scores(answers[k]);
            Assert.Equal(expected.Length, got.Length);
            for (int i = 0; i < got.Length; i++) Assert.Equal(expected[i], got[i], 1e-6);
        }
        Assert.Equal(answers.Sum(a => Scores(a).Length), summary.Candidates);
    }

    [Fact]
    public void OneAndTwoThreadsWriteTheSameBytes()
    {
        var path = WriteLines(Requests(40).Select(r => JsonSerializer.Serialize(r, OmitNulls)));
        var bundle = ModelBundle.Load(fx.BundleV1);
        var one = path + ".1";
        var two = path + ".2";
        RequestFileScorer.Run(bundle, path, one, new RequestFileScorer.Options { NowSeconds = 0, Threads = 1 });
        RequestFileScorer.Run(bundle, path, two, new RequestFileScorer.Options { NowSeconds = 0, Threads = 2 });
        Assert.Equal(File.ReadAllBytes(one), File.ReadAllBytes(two));
    }

    [Fact]
    public void GzipFilesAreReadAndWrittenByTheirExtension()
    {
        var lines = Requests(12).Select(r => JsonSerializer.Serialize(r, OmitNulls)).ToArray();
        var plain = WriteLines(lines);
        var packed = plain + ".gz";
        using (var gz = new System.IO.Compression.GZipStream(File.Create(packed), System.IO.Compression.CompressionLevel.Fastest))
        using (var w = new StreamWriter(gz)) foreach (var l in lines) w.WriteLine(l);
        var bundle = ModelBundle.Load(fx.BundleV1);
        var options = new RequestFileScorer.Options { NowSeconds = 0 };

        RequestFileScorer.Run(bundle, plain, plain + ".out", options);
        RequestFileScorer.Run(bundle, packed, plain + ".out.gz", options);

        using var unzip = new StreamReader(new System.IO.Compression.GZipStream(File.OpenRead(plain + ".out.gz"), System.IO.Compression.CompressionMode.Decompress));
        Assert.Equal(File.ReadAllText(plain + ".out"), unzip.ReadToEnd());
        File.WriteAllText(plain + ".bad.gz", "not gzip at all");
        var e = Assert.Throws<InvalidDataException>(() => RequestFileScorer.Run(bundle, plain + ".bad.gz", plain + ".bad.out", options));
        Assert.StartsWith($"{plain}.bad.gz: not a readable gzip file", e.Message);
        Assert.False(File.Exists(plain + ".bad.out"));
    }

    [Fact]
    public void ARefusedRequestNamesFileAndLineAndWritesNothing()
    {
        var good = JsonSerializer.Serialize(Requests(1)[0], OmitNulls);
        var path = WriteLines([good, "", good, """{"user_id": "1", "candidates": [{"item_id": "3"}], "histroy": []}""", good]);
        var output = path + ".out";
        var bundle = ModelBundle.Load(fx.BundleV1);

        var e = Assert.Throws<InvalidDataException>(() => RequestFileScorer.Run(bundle, path, output, new RequestFileScorer.Options()));

        Assert.StartsWith($"{path}:4: malformed JSON:", e.Message);
        Assert.Contains("histroy", e.Message);
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));
    }

    [Fact]
    public void SkippingAnswersRefusedLinesWithTheirProblem()
    {
        var good = JsonSerializer.Serialize(Requests(1)[0], OmitNulls);
        var path = WriteLines([
            good,
            "not json",
            "",
            """{"user_id": "1", "candidates": []}""",
            """{"user_id": "1", "candidates": [{"item_id": "3"}], "model": "no-such-model"}""",
            good,
        ]);
        var output = path + ".out";
        var bundle = ModelBundle.Load(fx.BundleV1);

        var summary = RequestFileScorer.Run(bundle, path, output, new RequestFileScorer.Options { SkipRefused = true });

        Assert.Equal((5, 3), (summary.Requests, summary.Refused));
        var answers = ReadAnswers(output);
        Assert.Equal([1, 2, 4, 5, 6], answers.Select(a => a.GetProperty("line").GetInt32()));
        Assert.Equal([400, 400, 404], answers.Skip(1).Take(3).Select(a => a.GetProperty("error").GetProperty("status").GetInt32()));
        Assert.Contains("candidates", answers[2].GetProperty("error").GetProperty("detail").GetString());
        Assert.Equal(Scores(answers[0]), Scores(answers[4]));
    }

    [Fact]
    public void RequestIdsAreEchoedOnScoredAndRefusedLines()
    {
        var path = WriteLines([
            """{"user_id": "1", "request_id": "a-1", "candidates": [{"item_id": "3"}]}""",
            """{"user_id": "1", "request_id": 77, "candidates": []}""",
            """{"user_id": "1", "candidates": [{"item_id": "3"}]}""",
            """{"user_id": "1", "request_id": [1], "candidates": [{"item_id": "3"}]}""",
        ]);
        var bundle = ModelBundle.Load(fx.BundleV1);
        RequestFileScorer.Run(bundle, path, path + ".out", new RequestFileScorer.Options { SkipRefused = true });
        var answers = ReadAnswers(path + ".out");
        Assert.Equal("a-1", answers[0].GetProperty("request_id").GetString());
        Assert.Equal("77", answers[1].GetProperty("request_id").GetString());   // refused for its empty candidates, still named
        Assert.True(answers[1].TryGetProperty("error", out _));
        Assert.False(answers[2].TryGetProperty("request_id", out _));
        Assert.False(answers[3].TryGetProperty("request_id", out _));            // refused for the id itself
        Assert.Contains("request_id", answers[3].GetProperty("error").GetProperty("detail").GetString());
    }

    [Fact]
    public async Task RequestsWithoutHistoryReadTheStore()
    {
        var data = fx.Data.Dataset;
        int s = data.Indices(Splits.Test)[5];
        string user = SampleRequests.User(data, s), item = SampleRequests.Item(data, s);
        var history = SampleRequests.History(data, s);
        Assert.NotEmpty(history);
        var dir = fx.NewDir("store");
        using var store = new SqliteHistoryStore(Path.Combine(dir, "history.db"), keepPerUser: 50);
        var none = new Dictionary<string, string[]>();
        await store.AppendAsync(history.Select((h, k) => new BehaviorEvent(user, h, "click", 1000 + k, none)).ToList(), default);
        var withHistory = JsonSerializer.Serialize(SampleRequests.Body(user, [item], history), OmitNulls);
        var fromStore = JsonSerializer.Serialize(SampleRequests.Body(user, [item]), OmitNulls);
        var path = WriteLines([withHistory, fromStore, fromStore]);
        var bundle = ModelBundle.Load(fx.BundleV1);

        var stored = RequestFileScorer.Run(bundle, path, path + ".a", new RequestFileScorer.Options { Store = store });
        var noStore = RequestFileScorer.Run(bundle, path, path + ".b", new RequestFileScorer.Options());

        var a = ReadAnswers(path + ".a");
        Assert.Equal(0, stored.WithoutHistory);
        Assert.Equal(Scores(a[0]), Scores(a[1]));
        Assert.Equal(history.Length, a[1].GetProperty("history_length").GetInt32());
        var b = ReadAnswers(path + ".b");
        Assert.Equal(2, noStore.WithoutHistory);
        Assert.Equal(0, b[1].GetProperty("history_length").GetInt32());
        Assert.NotEqual(Scores(b[0]), Scores(b[1]));
    }
}
