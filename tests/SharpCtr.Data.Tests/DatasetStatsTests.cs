using System.Text.Json;
using SharpCtr.Data.Protocol;

namespace SharpCtr.Data.Tests;

public class DatasetStatsTests
{
    [Fact]
    public void JsonHasTheDocumentedKeys()
    {
        var cfg = DataConfig.Load(Repo.Fixture("ml-fixture.yaml"));
        var d = ProtocolBuilder.Build(DatasetLoader.ReadRaw(cfg, Repo.Fixture("")), cfg);
        using var doc = JsonDocument.Parse(DatasetStats.Compute(d).ToJson());
        var o = doc.RootElement;
        Assert.Equal(3, o.GetProperty("users").GetInt32());
        Assert.Equal(9, o.GetProperty("items").GetInt32()); // item 13 had only a rating of 3
        Assert.Equal(17, o.GetProperty("interactions").GetInt32());
        Assert.Equal(13, o.GetProperty("positives").GetInt32());
        Assert.Equal(13, o.GetProperty("splits").GetProperty("train").GetProperty("rows").GetInt32());
        Assert.Equal(1, o.GetProperty("splits").GetProperty("valid").GetProperty("rows").GetInt32());
        Assert.Equal(3, o.GetProperty("splits").GetProperty("test").GetProperty("rows").GetInt32());
        Assert.Equal(9 + 2, o.GetProperty("fields").GetProperty("item_id").GetProperty("ids").GetInt32());
    }
}
