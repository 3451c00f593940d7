using SharpCtr.Data.Batching;
using SharpCtr.Data.Encoded;
using SharpCtr.Data.Protocol;

namespace SharpCtr.Data.Tests.Batching;

public class BatchLoaderTests
{
    static EncodedDataset Fixture()
    {
        var cfg = DataConfig.Load(Repo.Fixture("ml-fixture.yaml"));
        return ProtocolBuilder.Build(DatasetLoader.ReadRaw(cfg, Repo.Fixture("")), cfg);
    }

    [Fact]
    public void OrderedBatchesCoverEverySampleOnceWithPaddedArrays()
    {
        var d = Fixture();
        var all = Enumerable.Range(0, d.Count).ToArray();
        var loader = new BatchLoader(d, all, batchSize: 5, shuffle: false);
        var seen = new List<int>();
        var counts = new List<int>();
        foreach (var b in loader.Epoch())
        {
            counts.Add(b.Count);
            Assert.Equal(b.Count, b.Labels.Length);
            Assert.Equal(b.Count, b.Ids("item_id").Length);
            var seq = b.Sequence("item_seq");
            Assert.Equal(b.Count * 4, seq.Items.Length);
            Assert.Equal(b.Count * 4, seq.Side("genre").Length);
            var genre = b.MultiField("genre");
            for (int r = 0; r < b.Count; r++)
            {
                int i = b.SampleIndex[r];
                seen.Add(i);
                Assert.Equal(d.Labels[i], b.Labels[r]);
                Assert.Equal(d.Field("item_id").Ids[i], b.Ids("item_id")[r]);
                int len = d.Sequence!.SampleLength[i];
                Assert.Equal(len, seq.Lengths[r]);
                for (int j = 0; j < 4; j++)
                    Assert.Equal(j < len ? d.Sequence.Items[d.Sequence.SampleStart[i] + j] : 0, seq.Items[r * 4 + j]);
                var f = d.Field("genre");
                int glen = f.Offsets[i + 1] - f.Offsets[i];
                Assert.Equal(glen, genre.Lengths[r]);
                for (int j = 0; j < genre.Width; j++)
                    Assert.Equal(j < glen ? f.Ids[f.Offsets[i] + j] : 0, genre.Ids[r * genre.Width + j]);
            }
        }
        Assert.Equal(all, seen);
        Assert.Equal(new[] { 5, 5, 5, 2 }, counts);
        Assert.Throws<KeyNotFoundException>(() => loader.Epoch().First().Ids("nope"));
    }

    [Fact]
    public void SameSeedSameBatchesAndEpochsDiffer()
    {
        var d = Fixture();
        var all = Enumerable.Range(0, d.Count).ToArray();
        List<int> Run(int seed, int epoch) => new BatchLoader(d, all, 4, shuffle: true, seed).Epoch(epoch).SelectMany(b => b.SampleIndex.ToArray()).ToList();
        Assert.Equal(Run(7, 0), Run(7, 0));
        Assert.NotEqual(Run(7, 0), Run(7, 1));
        Assert.NotEqual(Run(7, 0), Run(8, 0));
        Assert.Equal(all, Run(7, 0).Order());
    }

    [Fact]
    public void BuffersAreReused()
    {
        var d = Fixture();
        var loader = new BatchLoader(d, Enumerable.Range(0, d.Count).ToArray(), 4, shuffle: false);
        var first = loader.Epoch().Select(b => b).ToList(); // references only
        var second = loader.Epoch().Select(b => b).ToList();
        Assert.Same(first[0], second[0]);
        Assert.Same(first[0], first[2]);
        Assert.NotSame(first[0], first[1]);
    }
}
