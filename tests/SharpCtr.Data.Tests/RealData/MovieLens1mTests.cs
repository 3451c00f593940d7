using SharpCtr.Data.Encoded;

namespace SharpCtr.Data.Tests.RealData;

/// <summary>The GenCI protocol numbers on the real MovieLens-1M (skipped when the data is absent).</summary>
public class MovieLens1mTests
{
    [SkippableFactIfNoData("ml-1m")]
    public void GenciProtocolGivesThePublishedCounts()
    {
        var cfg = DataConfig.Load(Repo.Config("movielens-1m"));
        var raw = DatasetLoader.ReadRaw(cfg, TestData.Root!);
        var ds = SharpCtr.Data.Protocol.ProtocolBuilder.Build(raw, cfg);
        Assert.Equal(739_012, ds.Interactions);
        Assert.Equal(6_040, ds.UserCount);
        Assert.Equal(3_668, ds.ItemCount);
        Assert.Equal(575_281, ds.Positives);
        Assert.Equal(3_668 + 2, ds.Field("item_id").VocabSize);
        var train = ds.Indices(Splits.Train); var valid = ds.Indices(Splits.Valid); var test = ds.Indices(Splits.Test);
        Assert.Equal(588_798, train.Length);
        Assert.Equal(73_595, valid.Length);
        Assert.Equal(76_619, test.Length);
        Assert.Equal(0.7906, PositiveRate(ds, train), 1e-4);
        Assert.Equal(0.7431, PositiveRate(ds, valid), 1e-4);
        Assert.Equal(0.7190, PositiveRate(ds, test), 1e-4);
        // histories never exceed 50 and contain only earlier positives of the same user
        var seq = ds.Sequence!;
        Assert.All(seq.SampleLength, l => Assert.InRange(l, 0, 50));
    }

    static double PositiveRate(EncodedDataset ds, int[] idx)
    {
        double p = 0;
        foreach (var i in idx) p += ds.Labels[i];
        return p / idx.Length;
    }
}
