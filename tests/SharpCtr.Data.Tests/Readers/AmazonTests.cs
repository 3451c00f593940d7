using SharpCtr.Data.Encoded;
using SharpCtr.Data.Protocol;

namespace SharpCtr.Data.Tests.Readers;

public class AmazonTests
{
    const string Config = """
        name: amazon-fixture
        source: {format: amazon, path: amazon2023, reviews: reviews.jsonl, meta: meta.jsonl.gz}
        label: {kind: implicit}
        filter: {min_user_interactions: 5}
        split: {kind: leave_one_out}
        negatives: {per_positive: 1, seed: 3}
        fields:
          - {name: user_id, source: user_id}
          - {name: item_id, source: item_id}
          - {name: category, source: item.category}
          - {name: store, source: item.store}
          - {name: query, kind: multi, source: item.query}
        sequence: {name: item_seq, max_len: 20, from: all, side: [{name: category, source: item.category}]}
        """;

    static EncodedDataset Build(string folder, string reviews, string meta, int seed = 3)
    {
        var cfg = DataConfig.Parse(Config, new[] { $"source.path={folder}", $"source.reviews={reviews}", $"source.meta={meta}", $"negatives.seed={seed}" });
        return ProtocolBuilder.Build(DatasetLoader.ReadRaw(cfg, Repo.Fixture("")), cfg);
    }

    [Theory]
    [InlineData("amazon2023", "reviews.jsonl", "meta.jsonl.gz")]
    [InlineData("amazon2018", "reviews.json.gz", "meta.json")]
    [InlineData("amazon2014", "reviews.json", "meta.json")]
    public void FiveCoreLeaveOneOutWithOneSampledNegativePerPositive(string folder, string reviews, string meta)
    {
        var d = Build(folder, reviews, meta);
        Assert.Equal(2, d.UserCount);           // C has 2 reviews: dropped
        Assert.Equal(11, d.Interactions);
        Assert.Equal(7, d.ItemCount);
        Assert.Equal(22, d.Count);              // a negative after every positive
        var users = d.Vocabulary("user_id"); var items = d.Vocabulary("item_id");
        var uid = d.Field("user_id").Ids; var iid = d.Field("item_id").Ids;
        var aRows = Enumerable.Range(0, d.Count).Where(i => users.Token(uid[i]) == "A").ToArray();
        Assert.Equal(new[] { "P1", "P7", "P2", "P7", "P3", "P7", "P4", "P7", "P5", "P7", "P6", "P7" }, aRows.Select(i => items.Token(iid[i])));
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2 }, aRows.Select(i => d.Split[i]));
        Assert.Equal(new float[] { 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0 }, aRows.Select(i => d.Labels[i]));
        // B's negatives are items B never touched
        var bNeg = Enumerable.Range(0, d.Count).Where(i => users.Token(uid[i]) == "B" && d.Labels[i] == 0).Select(i => items.Token(iid[i])).ToHashSet();
        Assert.Subset(new HashSet<string?> { "P5", "P6" }, bNeg);
        // the negative shares its positive's history: P6's test sample sees P1..P5
        var s = d.Sequence!;
        Assert.Equal(5, s.SampleLength[aRows[10]]);
        Assert.Equal(5, s.SampleLength[aRows[11]]);
        // metadata: leaf category and query tokens from the category path
        var cat = d.Vocabulary("item.category");
        Assert.Equal("Guitars", cat.Token(d.Field("category").Ids[aRows[0]]));
        var q = d.Field("query"); var qv = d.Vocabulary("item.query");
        Assert.Equal(new[] { "musical", "instruments", "guitars" }, q.Ids[q.Offsets[aRows[0]]..q.Offsets[aRows[0] + 1]].Select(x => qv.Token(x)));
    }

    [Fact]
    public void NegativeSamplingIsSeeded()
    {
        var a = Build("amazon2023", "reviews.jsonl", "meta.jsonl.gz", seed: 5);
        var b = Build("amazon2023", "reviews.jsonl", "meta.jsonl.gz", seed: 5);
        Assert.Equal(a.Field("item_id").Ids, b.Field("item_id").Ids);
    }
}
