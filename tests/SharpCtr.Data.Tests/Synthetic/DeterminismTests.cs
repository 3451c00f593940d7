using System.Text.Json;
using SharpCtr.Data.Synthetic;

namespace SharpCtr.Data.Tests.Synthetic;

public sealed class DeterminismTests : IDisposable
{
    readonly string _root = Path.Combine(Path.GetTempPath(), "sharpctr-synth-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    string WriteLog(SyntheticSearchOptions options, string name)
    {
        var dir = Path.Combine(_root, name);
        SearchLogWriter.Write(SearchLogGenerator.Generate(options), dir);
        return dir;
    }

    static readonly string[] Files = [SearchLogWriter.RequestsFile, SearchLogWriter.ItemsFile, SearchLogWriter.TruthFile];

    [Fact]
    public void Same_seed_gives_identical_bytes()
    {
        var a = WriteLog(SyntheticTestConfigs.Tiny(seed: 11), "a");
        var b = WriteLog(SyntheticTestConfigs.Tiny(seed: 11), "b");
        foreach (var f in Files)
            Assert.True(File.ReadAllBytes(Path.Combine(a, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, f))), f);
    }

    [Fact]
    public void Different_seed_gives_different_requests_and_truth()
    {
        var a = WriteLog(SyntheticTestConfigs.Tiny(seed: 11), "a");
        var b = WriteLog(SyntheticTestConfigs.Tiny(seed: 12), "b");
        foreach (var f in Files)
            Assert.False(File.ReadAllBytes(Path.Combine(a, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, f))), f);
    }

    [Fact]
    public void Writes_the_three_files_in_the_agreed_format_and_nothing_else()
    {
        var options = SyntheticTestConfigs.Tiny();
        var log = SearchLogGenerator.Generate(options);
        var dir = Path.Combine(_root, "fmt");
        SearchLogWriter.Write(log, dir);
        Assert.Equal(Files.Order(), Directory.GetFiles(dir).Select(Path.GetFileName).Order()!);

        var items = File.ReadAllLines(Path.Combine(dir, SearchLogWriter.ItemsFile));
        Assert.Equal(options.Items, items.Length);
        var categories = new Dictionary<string, string>();
        foreach (var line in items)
        {
            var e = JsonDocument.Parse(line).RootElement;
            var path = e.GetProperty("category_path").EnumerateArray().Select(x => x.GetString()!).ToArray();
            Assert.Equal(2, path.Length);
            Assert.Equal(path[1], e.GetProperty("category").GetString());
            Assert.False(string.IsNullOrWhiteSpace(e.GetProperty("title").GetString()));
            categories.Add(e.GetProperty("item_id").GetString()!, path[1]);
        }

        var requests = File.ReadAllLines(Path.Combine(dir, SearchLogWriter.RequestsFile));
        var truth = File.ReadAllLines(Path.Combine(dir, SearchLogWriter.TruthFile));
        Assert.Equal(log.Requests.Length, requests.Length);
        Assert.Equal(requests.Length, truth.Length);
        long lastTimestamp = 0;
        for (var k = 0; k < requests.Length; k++)
        {
            var r = JsonDocument.Parse(requests[k]).RootElement;
            var t = JsonDocument.Parse(truth[k]).RootElement;
            Assert.Equal(k, r.GetProperty("request_id").GetInt64());
            Assert.Equal(k, t.GetProperty("request_id").GetInt64());
            Assert.StartsWith("u", r.GetProperty("user_id").GetString());
            var timestamp = r.GetProperty("timestamp").GetInt64();
            Assert.True(timestamp >= lastTimestamp, "requests are chronological");
            lastTimestamp = timestamp;
            Assert.False(string.IsNullOrWhiteSpace(r.GetProperty("query").GetString()));
            var context = r.GetProperty("context");
            Assert.InRange(context.GetProperty("hour").GetInt32(), 0, 23);
            Assert.InRange(context.GetProperty("weekday").GetInt32(), 0, 6);
            Assert.InRange(context.GetProperty("page").GetInt32(), 1, options.MaxPages);
            Assert.Contains(r.GetProperty("scene").GetProperty("device").GetString(), SyntheticCatalog.Devices);
            Assert.Contains(r.GetProperty("scene").GetProperty("source").GetString(), SyntheticCatalog.Sources);

            var clicked = new HashSet<string>();
            var position = 0;
            foreach (var item in r.GetProperty("items").EnumerateArray())
            {
                Assert.Equal(++position, item.GetProperty("position").GetInt32());
                Assert.True(categories.ContainsKey(item.GetProperty("item_id").GetString()!));
                var c = item.GetProperty("clicked").GetInt32();
                Assert.True(c is 0 or 1);
                if (c == 1) clicked.Add(item.GetProperty("item_id").GetString()!);
            }
            Assert.InRange(position, options.MinShown, options.MaxShown);

            var intent = t.GetProperty("true_intent").GetString()!;
            var weights = t.GetProperty("intent_weights").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
            Assert.True(weights.ContainsKey(intent), "the true intent is drawn from intent_weights");
            Assert.Equal(1.0, weights.Values.Sum(), 1e-2);
            foreach (var noisy in t.GetProperty("noisy_clicks").EnumerateArray())
                Assert.Contains(noisy.GetString()!, clicked);
        }
    }

    [Fact]
    public void Writing_over_an_existing_log_replaces_it_and_leaves_no_temporary_files()
    {
        var dir = WriteLog(SyntheticTestConfigs.Tiny(seed: 1), "x");
        SearchLogWriter.Write(SearchLogGenerator.Generate(SyntheticTestConfigs.Tiny(seed: 2)), dir);
        var again = WriteLog(SyntheticTestConfigs.Tiny(seed: 2), "y");
        Assert.Equal(File.ReadAllBytes(Path.Combine(again, SearchLogWriter.TruthFile)), File.ReadAllBytes(Path.Combine(dir, SearchLogWriter.TruthFile)));
        Assert.Equal(3, Directory.GetFiles(dir).Length);
    }
}
