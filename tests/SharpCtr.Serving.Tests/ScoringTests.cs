using SharpCtr.Data.Encoded;
using SharpCtr.Serving.Bundles;
using SharpCtr.Serving.Scoring;
using SharpCtr.Training.Evaluation;

namespace SharpCtr.Serving.Tests;

[Collection(ServingCollection.Name)]
public sealed class ScoringTests(ServingFixture fx)
{
    [Fact]
    public async Task ServiceScoresEqualOfflineScores()
    {
        var data = fx.Data.Dataset;
        var bundle = ModelBundle.Load(fx.BundleV1);
        var test = data.Indices(Splits.Test);
        var samples = Enumerable.Range(0, 24).Select(k => test[k * (test.Length / 24)]).ToArray();
        // offline: the trained run's weights scored through the training code path
        var offline = Evaluator.Predict(bundle.Model, data, samples, batchSize: 7);

        await using var service = await fx.StartAsync(fx.BundleV1);
        for (int k = 0; k < samples.Length; k++)
        {
            int s = samples[k];
            var history = SampleRequests.History(data, s);
            var (version, scores, historyLength) = await SampleRequests.ScoreAsync(service.Client,
                SampleRequests.Body(SampleRequests.User(data, s), [SampleRequests.Item(data, s)], history));
            Assert.Equal(bundle.Version, version);
            Assert.Equal(history.Length, historyLength);
            Assert.Equal(offline[k], scores[0], 1e-6);   // an absolute tolerance: rounding to 5 decimals fails on a boundary (0.326894999 vs 0.326895028)
        }
    }

    [Fact]
    public async Task ManyCandidatesScoreAsEachAlone()
    {
        var data = fx.Data.Dataset;
        var test = data.Indices(Splits.Test);
        int s = test[10];
        var user = SampleRequests.User(data, s);
        var history = SampleRequests.History(data, s);
        var items = test.Take(40).Select(i => SampleRequests.Item(data, i)).Distinct().ToArray();
        await using var service = await fx.StartAsync(fx.BundleV1);
        var (_, together, _) = await SampleRequests.ScoreAsync(service.Client, SampleRequests.Body(user, items, history));
        Assert.Equal(items.Length, together.Length);
        for (int i = 0; i < items.Length; i++)
        {
            var (_, alone, _) = await SampleRequests.ScoreAsync(service.Client, SampleRequests.Body(user, [items[i]], history));
            Assert.Equal(alone[0], together[i], 1e-6);
        }
        Assert.True(together.Distinct().Count() > 1, "different items should get different scores");
    }

    [Fact]
    public void UnknownIdsEncodeAsOutOfVocabulary()
    {
        var bundle = ModelBundle.Load(fx.BundleV1);
        var input = new ScoreInput
        {
            UserId = "no-such-user", Context = new(), Candidates = [new ItemInput("no-such-item", new Dictionary<string, string[]>()), new ItemInput("7", new Dictionary<string, string[]>())],
            History = [new ItemInput("unknown-history-item", new Dictionary<string, string[]>())],
        };
        var batch = bundle.Encoder.Encode(input, nowSeconds: 0);
        Assert.Equal([1, 1], batch.Ids("user_id"));
        Assert.Equal(1, batch.Ids("item_id")[0]);
        Assert.True(batch.Ids("item_id")[1] > 1, "a known item keeps its id");
        Assert.Equal(0, batch.MultiField("genre").Lengths[0]);    // no attributes known: an empty genre list
        Assert.True(batch.MultiField("genre").Lengths[1] > 0, "a request naming only item_id still gets the item's genre from the bundle");
        var seq = batch.Sequence("item_seq");
        Assert.Equal([1, 1], seq.Lengths);
        Assert.Equal(1, seq.Items[0]);
        var scores = Scorer.Score(bundle, batch);
        Assert.All(scores, x => Assert.True(x > 0 && x < 1));
    }

    [Fact]
    public void AttributesInTheRequestOverrideTheBundlesTables()
    {
        var bundle = ModelBundle.Load(fx.BundleV1);
        var genres = bundle.Vocabulary("item.genre");
        var input = new ScoreInput
        {
            UserId = "1", Context = new() { ["gender"] = ["F"] },
            Candidates = [new ItemInput("7", new Dictionary<string, string[]> { ["genre"] = ["Horror", "Comedy"] })],
        };
        var batch = bundle.Encoder.Encode(input, nowSeconds: 0);
        var g = batch.MultiField("genre");
        Assert.Equal(2, g.Lengths[0]);
        Assert.Equal(genres.Id("Horror"), g.Ids[0]);
        Assert.Equal(genres.Id("Comedy"), g.Ids[1]);
        Assert.Equal(bundle.Vocabulary("user.gender").Id("F"), batch.Ids("gender")[0]);
    }
}
