using SharpCtr.Data.Encoded;
using SharpCtr.Serving.Bundles;
using SharpCtr.Serving.Store;
using SharpCtr.Training.Evaluation;

namespace SharpCtr.Serving.Tests;

/// <summary>
/// GenCI and CDP bundles end to end: the service's scores equal the offline Evaluator's for the
/// same inputs, for requests rebuilt from test samples, with an empty history, with unknown ids,
/// and (CDP) with the query, context and scene given or left out.
/// </summary>
[Collection(ModelFamilyCollection.Name)]
public sealed class ModelFamilyScoringTests(ModelFamilyFixture fx)
{
    // An absolute tolerance, not xunit's "equal when rounded to n decimal places": two scores 5e-8 apart
    // round apart when they straddle a rounding boundary (it happened on an AVX-512 host).
    const double Tolerance = 1e-5;

    ModelFamilyFixture.Trained Model(string name) => name == "genci" ? fx.GenCi : fx.Cdp;

    Task<TestService> Start(string bundle) =>
        TestService.StartAsync(bundle, new SqliteHistoryStore(Path.Combine(fx.NewDir("store"), "history.db"), keepPerUser: 50));

    /// <summary>Test samples grouped into requests: same group, history and request-level fields; one candidate per sample.</summary>
    static List<int[]> Requests(EncodedDataset d, int count)
    {
        var test = d.Indices(Splits.Test);
        var perCandidate = d.Fields.Where(f => f.Source == "item_id" || f.Source.StartsWith("item.", StringComparison.Ordinal) || f.Source == "row.position").ToHashSet();
        bool SameRequest(int a, int b) =>
            d.Group[a] == d.Group[b]
            && (d.Sequence is not { } q || (q.SampleStart[a] == q.SampleStart[b] && q.SampleLength[a] == q.SampleLength[b]))
            && d.Fields.All(f => perCandidate.Contains(f) || EncodedRequests.Tokens(d, f, a).SequenceEqual(EncodedRequests.Tokens(d, f, b)));
        var requests = new List<int[]>();
        for (int k = 0; k < test.Length && requests.Count < count; k += Math.Max(1, test.Length / count))
            requests.Add(test.Where(t => SameRequest(test[k], t)).ToArray());
        return requests;
    }

    [Theory]
    [InlineData("genci")]
    [InlineData("cdp")]
    public async Task ServiceScoresEqualOfflineScores(string name)
    {
        var (data, bundleDir) = Model(name);
        var bundle = ModelBundle.Load(bundleDir);
        await using var service = await Start(bundleDir);
        int candidates = 0, withHistory = 0;
        foreach (var samples in Requests(data, 12))
        {
            var offline = Evaluator.Predict(bundle.Model, data, samples, batchSize: 5);
            var (version, scores, historyLength) = await SampleRequests.ScoreAsync(service.Client, EncodedRequests.Body(data, samples));
            Assert.Equal(bundle.Version, version);
            Assert.Equal(samples.Length, scores.Length);
            for (int i = 0; i < samples.Length; i++) Assert.Equal(offline[i], scores[i], Tolerance);
            candidates += samples.Length;
            if (historyLength > 0) withHistory++;
        }
        Assert.True(withHistory >= 3, $"only {withHistory} requests had a history");
        if (name == "cdp") Assert.True(candidates >= 24, $"requests should carry several candidates each (got {candidates} in 12 requests)");
    }

    [Theory]
    [InlineData("genci")]
    [InlineData("cdp")]
    public async Task EmptyHistoryScoresAsOfflineWithoutHistory(string name)
    {
        var (data, bundleDir) = Model(name);
        var bundle = ModelBundle.Load(bundleDir);
        await using var service = await Start(bundleDir);
        foreach (var samples in Requests(data, 4))
        {
            int s = samples[0];
            var body = EncodedRequests.Body(data, [s]);
            body["history"] = new System.Text.Json.Nodes.JsonArray();
            var offline = Evaluator.Predict(bundle.Model, EncodedRequests.OneSample(data, s, historyIds: (_, sides) => ([], sides.ToDictionary(x => x.Key, _ => Array.Empty<int>()))), [0], 1);
            var (_, scores, historyLength) = await SampleRequests.ScoreAsync(service.Client, body);
            Assert.Equal(0, historyLength);
            Assert.Equal(offline[0], scores[0], Tolerance);
        }
    }

    [Theory]
    [InlineData("genci")]
    [InlineData("cdp")]
    public async Task UnknownIdsScoreAsOutOfVocabulary(string name)
    {
        var (data, bundleDir) = Model(name);
        var bundle = ModelBundle.Load(bundleDir);
        await using var service = await Start(bundleDir);
        var withHistory = Requests(data, 12).Select(r => r[0]).Where(s => data.Sequence!.SampleLength[s] >= 2).Take(3).ToArray();
        Assert.NotEmpty(withHistory);
        foreach (int s in withHistory)
        {
            var body = EncodedRequests.Body(data, [s]);
            body["user_id"] = "no-such-user";
            body["candidates"]![0]!["item_id"] = "no-such-item";
            body["history"]![0]!["item_id"] = "no-such-history-item";
            // offline: the user's and the item's fields are missing values; the first history item is OOV with OOV sides
            var offline = Evaluator.Predict(bundle.Model, EncodedRequests.OneSample(data, s,
                fieldIds: (f, ids) => EncodedRequests.IsUserLevel(f.Source) || EncodedRequests.IsItemLevel(f.Source) ? EncodedRequests.Missing(f) : ids,
                historyIds: (items, sides) =>
                {
                    items = (int[])items.Clone();
                    items[0] = 1;
                    var changed = sides.ToDictionary(x => x.Key, x => { var a = (int[])x.Value.Clone(); a[0] = 1; return a; });
                    return (items, changed);
                }), [0], 1);
            var (_, scores, _) = await SampleRequests.ScoreAsync(service.Client, body);
            Assert.Equal(offline[0], scores[0], Tolerance);
        }
    }

    [Theory]
    [InlineData("query")]
    [InlineData("context", "scene")]
    [InlineData("query", "context", "scene")]
    public async Task CdpWithoutQueryOrContextScoresAsOfflineWithThemMissing(params string[] absent)
    {
        var (data, bundleDir) = fx.Cdp;
        var bundle = ModelBundle.Load(bundleDir);
        await using var service = await Start(bundleDir);
        var requests = Requests(data, 12).Where(r => EncodedRequests.Body(data, r).ContainsKey("query")).Take(3).ToList();
        Assert.NotEmpty(requests);
        bool Absent(string source) =>
            (source == "row.query" && absent.Contains("query"))
            || (source.StartsWith("row.context.", StringComparison.Ordinal) && absent.Contains("context"))
            || (source.StartsWith("row.scene.", StringComparison.Ordinal) && absent.Contains("scene"));
        foreach (var samples in requests)
        {
            var body = EncodedRequests.Body(data, samples);
            foreach (var key in absent) Assert.True(body.Remove(key), $"the request should have had a {key}");
            var (_, scores, _) = await SampleRequests.ScoreAsync(service.Client, body);
            var withAll = Evaluator.Predict(bundle.Model, data, samples, batchSize: 8);
            for (int i = 0; i < samples.Length; i++)
            {
                var offline = Evaluator.Predict(bundle.Model, EncodedRequests.OneSample(data, samples[i], fieldIds: (f, ids) => Absent(f.Source) ? EncodedRequests.Missing(f) : ids), [0], 1);
                Assert.Equal(offline[0], scores[i], Tolerance);
            }
            Assert.NotEqual(withAll, scores);   // leaving them out changed something
        }
    }

    [Theory]
    [InlineData("genci")]
    [InlineData("cdp")]
    public async Task ManyCandidatesScoreAsEachAlone(string name)
    {
        var (data, bundleDir) = Model(name);
        await using var service = await Start(bundleDir);
        int s = Requests(data, 12).Select(r => r[0]).First(x => data.Sequence!.SampleLength[x] >= 2);
        var body = EncodedRequests.Body(data, [s]);
        var items = data.Indices(Splits.Test).Select(t => EncodedRequests.Tokens(data, data.Field("item_id"), t)[0]).Distinct().Take(15).ToArray();
        var template = body["candidates"]![0]!.DeepClone();
        var many = new System.Text.Json.Nodes.JsonArray();
        foreach (var item in items) { var c = template.DeepClone(); c["item_id"] = item; many.Add(c); }
        body["candidates"] = many;
        var (_, together, _) = await SampleRequests.ScoreAsync(service.Client, body);
        for (int i = 0; i < items.Length; i++)
        {
            var one = (System.Text.Json.Nodes.JsonObject)body.DeepClone();
            one["candidates"] = new System.Text.Json.Nodes.JsonArray(many[i]!.DeepClone());
            var (_, alone, _) = await SampleRequests.ScoreAsync(service.Client, one);
            Assert.Equal(alone[0], together[i], Tolerance);
        }
        Assert.True(together.Distinct().Count() > 1, "different items should get different scores");
    }
}
