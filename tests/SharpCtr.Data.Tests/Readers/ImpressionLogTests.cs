using SharpCtr.Data.Batching;
using SharpCtr.Data.Encoded;
using SharpCtr.Data.Protocol;
using SharpCtr.Data.Readers;

namespace SharpCtr.Data.Tests.Readers;

public class ImpressionLogTests
{
    const string Config = """
        name: impressions-fixture
        source: {format: impressions, path: impressions}
        label: {kind: clicked}
        split: {kind: ratio_per_user}
        fields:
          - {name: user_id, source: user_id}
          - {name: item_id, source: item_id}
          - {name: category, source: item.category}
          - {name: query, kind: multi, source: row.query}
          - {name: hour, source: row.context.hour}
          - {name: device, source: row.scene.device}
          - {name: position, source: row.position}
        sequence: {name: clicks, max_len: 10, side: [{name: category, source: item.category}]}
        """;

    static EncodedDataset Build(params string[] sets)
    {
        var cfg = DataConfig.Parse(Config, sets);
        return ProtocolBuilder.Build(DatasetLoader.ReadRaw(cfg, Repo.Fixture("")), cfg);
    }

    [Fact]
    public void OneSamplePerShownItemWithStrictlyEarlierClickHistories()
    {
        var d = Build();
        Assert.Equal(11, d.Count);
        Assert.Equal(6, d.Positives);
        var items = d.Vocabulary("item_id"); var users = d.Vocabulary("user_id");
        var iid = d.Field("item_id").Ids; var uid = d.Field("user_id").Ids;
        var s = d.Sequence!;
        string Hist(int i) => string.Join(" ", s.Items.AsSpan(s.SampleStart[i], s.SampleLength[i]).ToArray().Select(x => items.Token(x)));
        var u1 = Enumerable.Range(0, d.Count).Where(i => users.Token(uid[i]) == "u1").ToArray();
        Assert.Equal(new[] { "i1", "i2", "i3", "i2", "i5", "i1", "i4" }, u1.Select(i => items.Token(iid[i])));
        Assert.Equal(new[] { "", "", "", "i1", "i1", "i1 i2", "i1 i2" }, u1.Select(Hist));
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 2, 2 }, u1.Select(i => d.Split[i]));
        var u2 = Enumerable.Range(0, d.Count).Where(i => users.Token(uid[i]) == "u2").ToArray();
        // both items of request 2 were clicked, yet neither is in the other's history
        Assert.Equal(new[] { "", "", "i3 i4", "i3 i4" }, u2.Select(Hist));
        // groups are requests
        Assert.Equal(5, d.Group.Distinct().Count());
        Assert.Equal(d.Group[u1[0]], d.Group[u1[2]]);
        Assert.NotEqual(d.Group[u1[2]], d.Group[u1[3]]);
        Assert.Equal(new[] { 1, 3, 4 }, new[] { u1[0], u1[3], u1[5] }.Select(i => d.GroupRequestIds[d.Group[i]]));
        // query tokens, context and scene fields
        var q = d.Field("query"); var qv = d.Vocabulary("row.query");
        Assert.Equal(new[] { "red", "running", "shoes" }, q.Ids[q.Offsets[u1[3]]..q.Offsets[u1[3] + 1]].Select(x => qv.Token(x)));
        Assert.Equal("13", d.Vocabulary("row.context.hour").Token(d.Field("hour").Ids[0]));
        Assert.Equal("ios", d.Vocabulary("row.scene.device").Token(d.Field("device").Ids[0]));
        Assert.Equal("2", d.Vocabulary("row.position").Token(d.Field("position").Ids[u1[1]]));
        // batches carry the request as group
        var b = new BatchLoader(d, Enumerable.Range(0, d.Count).ToArray(), 11, shuffle: false).Epoch().First();
        Assert.Equal(d.Group, b.GroupIndex);
    }

    [Fact]
    public void GlobalTimeSplitKeepsRequestsTogether()
    {
        var d = Build("split.kind=global_time");
        for (int i = 1; i < d.Count; i++)
            if (d.Group[i] == d.Group[i - 1]) Assert.Equal(d.Split[i - 1], d.Split[i]);
        Assert.Contains(Splits.Test, d.Split);
        Assert.Contains(Splits.Train, d.Split);
    }

    [Fact]
    public void TruthIsExposedSeparately()
    {
        var log = ImpressionLogReader.Read(Repo.Fixture("impressions"));
        Assert.Equal("c1", log.Truth[3].TrueIntent);
        Assert.Equal(new[] { "i2" }, log.Truth[3].NoisyClicks);
        Assert.False(log.Raw.RowAttributes.Has("true_intent"));
    }
}
