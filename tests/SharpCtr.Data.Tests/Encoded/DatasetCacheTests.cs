using SharpCtr.Data.Encoded;

namespace SharpCtr.Data.Tests.Encoded;

public class DatasetCacheTests
{
    [Fact]
    public void CacheRoundTripsAndRebuildsWhenConfigOrDataChange()
    {
        var tmp = Path.Combine(Path.GetTempPath(), "sharpctr-cache-" + Guid.NewGuid().ToString("N"));
        var dataDir = Path.Combine(tmp, "data", "ml-dat");
        Directory.CreateDirectory(dataDir);
        foreach (var f in Directory.GetFiles(Repo.Fixture("ml-dat"))) File.Copy(f, Path.Combine(dataDir, Path.GetFileName(f)));
        var cacheDir = Path.Combine(tmp, "cache");
        var cfg = DataConfig.Load(Repo.Fixture("ml-fixture.yaml"));

        var first = DatasetLoader.Load(cfg, Path.Combine(tmp, "data"), cacheDir);
        Assert.False(first.FromCache);
        var second = DatasetLoader.Load(cfg, Path.Combine(tmp, "data"), cacheDir);
        Assert.True(second.FromCache);
        Assert.Equal(first.CachePath, second.CachePath);
        var a = first.Dataset; var b = second.Dataset;
        Assert.Equal(a.Labels, b.Labels);
        Assert.Equal(a.Split, b.Split);
        Assert.Equal(a.Field("genre").Ids, b.Field("genre").Ids);
        Assert.Equal(a.Field("genre").Offsets, b.Field("genre").Offsets);
        Assert.Equal(a.Sequence!.Items, b.Sequence!.Items);
        Assert.Equal(a.Sequence.Sides[0].Ids, b.Sequence.Sides[0].Ids);
        Assert.Equal(a.Vocabulary("item_id").Tokens, b.Vocabulary("item_id").Tokens);
        Assert.Equal(a.Positives, b.Positives);
        // no temporary files left behind
        Assert.Single(Directory.GetFiles(cacheDir));

        var changedConfig = DataConfig.Load(Repo.Fixture("ml-fixture.yaml"), new[] { "sequence.max_len=2" });
        var third = DatasetLoader.Load(changedConfig, Path.Combine(tmp, "data"), cacheDir);
        Assert.False(third.FromCache);
        Assert.NotEqual(first.CachePath, third.CachePath);

        File.AppendAllText(Path.Combine(dataDir, "ratings.dat"), "3::19::5::3003\n");
        var fourth = DatasetLoader.Load(cfg, Path.Combine(tmp, "data"), cacheDir);
        Assert.False(fourth.FromCache);
        Assert.Equal(a.Interactions + 1, fourth.Dataset.Interactions);

        // a truncated cache file is not trusted
        var bytes = File.ReadAllBytes(fourth.CachePath);
        File.WriteAllBytes(fourth.CachePath, bytes[..(bytes.Length / 2)]);
        Assert.False(DatasetLoader.Load(cfg, Path.Combine(tmp, "data"), cacheDir).FromCache);
        Directory.Delete(tmp, true);
    }

    [Fact]
    public void MissingDataSetSaysWhereItLookedAndWhereToGetIt()
    {
        var cfg = DataConfig.Load(Repo.Fixture("ml-fixture.yaml"), new[] { "source.path=nope" });
        var e = Assert.Throws<DataSetMissingException>(() => DatasetLoader.Load(cfg, "/nonexistent-root"));
        Assert.Contains("/nonexistent-root/nope", e.Message);
        Assert.Contains("grouplens.org", e.Message);
    }

    [Fact]
    public void DataRootPrefersFlagThenEnvironmentThenDotData()
    {
        Assert.Equal(Path.GetFullPath("/x/y"), DataRoot.Resolve("/x/y"));
        var old = Environment.GetEnvironmentVariable(DataRoot.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(DataRoot.EnvironmentVariable, "/from/env");
            Assert.Equal("/from/env", DataRoot.Resolve(null));
            Environment.SetEnvironmentVariable(DataRoot.EnvironmentVariable, null);
            Assert.Equal(Path.GetFullPath("data"), DataRoot.Resolve(null));
        }
        finally { Environment.SetEnvironmentVariable(DataRoot.EnvironmentVariable, old); }
    }
}
