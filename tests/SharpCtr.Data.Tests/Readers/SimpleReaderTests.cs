using System.Text;
using SharpCtr.Data.Protocol;
using SharpCtr.Data.Raw;
using SharpCtr.Data.Readers;

namespace SharpCtr.Data.Tests.Readers;

public class SimpleReaderTests
{
    [Fact]
    public void MovieLens100kReadsGenreFlagsUsersAndTimeContext()
    {
        var cfg = DataConfig.Load(Repo.Config("movielens-100k"), new[] { "sequence.max_len=3" });
        var d = ProtocolBuilder.Build(DatasetLoader.ReadRaw(cfg, Repo.Fixture("")), cfg);
        Assert.Equal(5, d.Interactions);       // one rating of 3 dropped
        Assert.Equal(4, d.Positives);
        var genre = d.Field("genre"); var gv = d.Vocabulary("item.genre");
        int first = 0; // user 1's first sample: Toy Story
        Assert.Equal(new[] { "Animation", "Children's", "Comedy" }, genre.Ids[genre.Offsets[first]..genre.Offsets[first + 1]].Select(x => gv.Token(x)));
        Assert.Equal("technician", d.Vocabulary("user.occupation").Token(d.Field("occupation").Ids[first]));
        // 881250949 = 1997-12-04 15:55:49 UTC, a Thursday
        Assert.Equal("15", d.Vocabulary("time.hour").Token(d.Field("hour").Ids[first]));
        Assert.Equal("4", d.Vocabulary("time.weekday").Token(d.Field("weekday").Ids[first]));
        Assert.Equal("1995", d.Vocabulary("item.release_year").Token(d.Field("release_year").Ids[first]));
    }

    [Theory]
    [InlineData("clicks.csv")]
    [InlineData("clicks.tsv")]
    [InlineData("clicks.jsonl")]
    public void GenericInteractionsWithColumnMapping(string file)
    {
        var raw = InteractionsReader.Read(Repo.Fixture("generic/" + file), new InteractionsReader.Columns("uid", "iid", "score", "ts"));
        Assert.Equal(3, raw.RowCount);
        Assert.Equal(new[] { "u1", "u2" }, raw.Users.Keys);
        Assert.Equal(new[] { "i1", "i2", "i,3" }, raw.Items.Keys);
        Assert.Equal(new[] { 1f, 0f, 1f }, raw.RowRating);
        Assert.Equal(new long[] { 10, 5, 7 }, raw.RowTimestamp);
        Assert.Equal("web", raw.RowAttributes.Get(1, "device")![0]);
    }

    [Fact]
    public void SequenceJsonWithItemSideFile()
    {
        var cfg = DataConfig.Parse("""
            name: seq
            source: {format: sequence-json, path: seqjson/sequences.json, items: items.jsonl}
            label: {kind: implicit}
            split: {kind: leave_one_out}
            fields: [{name: item_id, source: item_id}, {name: tags, kind: multi, source: item.tags}]
            sequence: {name: hist, max_len: 10, side: [{name: category, source: item.category}]}
            """);
        var d = ProtocolBuilder.Build(DatasetLoader.ReadRaw(cfg, Repo.Fixture("")), cfg);
        Assert.Equal(6, d.Interactions);
        var items = d.Vocabulary("item_id");
        // u1: a b c d → d test, c valid, a b train; d's history is a b c with categories x y x
        var s = d.Sequence!;
        Assert.Equal(new[] { "a", "b", "c" }, s.Items.AsSpan(s.SampleStart[3], s.SampleLength[3]).ToArray().Select(x => items.Token(x)));
        Assert.Equal(new[] { "x", "y", "x" }, s.Sides[0].Ids.AsSpan(s.SampleStart[3], 3).ToArray().Select(x => d.Vocabulary("item.category").Token(x)));
        Assert.Equal(new byte[] { 0, 0, 1, 2 }, d.Split[..4]);
        // u2 has 2 items: too few for leave-one-out, all train
        Assert.Equal(new byte[] { 0, 0 }, d.Split[4..]);
    }

    [Fact]
    public void DenseItemVectorsAndSemanticIdsBecomeFields()
    {
        var cfg = DataConfig.Parse("""
            name: seq
            source:
              format: sequence-json
              path: seqjson/sequences.json
              item_vectors: [{name: emb, path: vectors.tsv}]
              semantic_ids: sem_ids.json
            label: {kind: implicit}
            fields:
              - {name: item_id, source: item_id}
              - {name: emb, kind: dense, source: item.emb}
              - {name: sid, kind: multi, source: item.semantic_id}
              - {name: sid0, source: item.semantic_id.0}
            """);
        var d = ProtocolBuilder.Build(DatasetLoader.ReadRaw(cfg, Repo.Fixture("")), cfg);
        var emb = d.Field("emb");
        Assert.Equal(2, emb.Width);
        Assert.Equal(3, emb.VocabSize);          // zeros + vectors of a and b
        var b = new SharpCtr.Data.Batching.BatchLoader(d, Enumerable.Range(0, d.Count).ToArray(), d.Count, shuffle: false).Epoch().First();
        var dense = b.Dense("emb").Values;
        // u1: a b c d — a and b have vectors, c and d get zeros
        Assert.Equal(new[] { 0.5f, 1.5f, -1f, 2f, 0f, 0f, 0f, 0f }, dense[..8]);
        var sid = b.MultiField("sid"); var sv = d.Vocabulary("item.semantic_id");
        Assert.Equal(new[] { "0:12", "1:3", "2:7" }, sid.Ids[..3].Select(x => sv.Token(x)));
        Assert.Equal("12", d.Vocabulary("item.semantic_id.0").Token(b.Ids("sid0")[0]));
        Assert.Equal(0, sid.Lengths[3]);         // d has no semantic id
    }

    [Fact]
    public void ItemVectorsFromTsvAndNpy()
    {
        var tsv = ItemVectorReader.Read(Repo.Fixture("vectors.tsv"));
        Assert.Equal(2, tsv.Dim);
        Assert.Equal(new[] { "a", "b" }, tsv.Keys);
        Assert.Equal(new[] { -1f, 2f }, tsv.Of(1).ToArray());

        var dir = Path.Combine(Path.GetTempPath(), "sharpctr-npy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var f4 = Path.Combine(dir, "v4.npy"); WriteNpy(f4, "<f4", 2, 3, new float[] { 1, 2, 3, 4, 5, 6 });
        var f8 = Path.Combine(dir, "v8.npy"); WriteNpy(f8, "<f8", 2, 3, new float[] { 1, 2, 3, 4, 5, 6 });
        foreach (var f in new[] { f4, f8 })
        {
            var v = ItemVectorReader.Read(f, new[] { "x", "y" });
            Assert.Equal(3, v.Dim);
            Assert.Equal(new[] { 4f, 5f, 6f }, v.Of(1).ToArray());
        }
        var nan = Path.Combine(dir, "nan.npy"); WriteNpy(nan, "<f4", 1, 2, new[] { 1f, float.NaN });
        Assert.Contains("NaN", Assert.Throws<DataFormatException>(() => ItemVectorReader.Read(nan)).Message);
        Directory.Delete(dir, true);
    }

    static void WriteNpy(string path, string descr, int rows, int cols, float[] values)
    {
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {cols}), }}";
        header = header.PadRight(((10 + header.Length + 1 + 63) / 64) * 64 - 10 - 1) + "\n";
        using var w = new BinaryWriter(File.Create(path));
        w.Write((byte)0x93); w.Write(Encoding.ASCII.GetBytes("NUMPY")); w.Write((byte)1); w.Write((byte)0);
        w.Write((ushort)header.Length); w.Write(Encoding.ASCII.GetBytes(header));
        foreach (var x in values) { if (descr == "<f4") w.Write(x); else w.Write((double)x); }
    }

    [Fact]
    public void SemanticIdsInBothStyles()
    {
        var ids = SemanticIdReader.Read(Repo.Fixture("sem_ids.json"));
        Assert.Equal(new[] { 12, 3, 7 }, ids["a"]);
        Assert.Equal(new[] { 1, 2, 3 }, ids["b"]);
        Assert.Equal(new[] { 1, 2 }, ids["c"]);
    }

    [SkippableFactIfNoData("genci-semantic-ids")]
    public void PublishedGenciSemanticIds()
    {
        var ids = SemanticIdReader.Read(Path.Combine(TestData.Root!, "genci-semantic-ids", "movielens.sem_ids.json"));
        Assert.Equal(3_668, ids.Count);
        Assert.All(ids.Values, c => Assert.Equal(4, c.Length));
        Assert.Equal(new[] { 149, 174, 192, 1 }, ids["2951"]);
    }
}

public class MovieLensLayoutTests
{
    [Fact]
    public void MovieLens20mCsvLayoutWithQuotedTitles()
    {
        var raw = MovieLensReader.Read(Repo.Fixture("ml-20m"));
        Assert.Equal(3, raw.RowCount);
        Assert.Equal(new[] { 3.5f, 4.5f, 2f }, raw.RowRating);
        int item = raw.Items.Find("29");
        Assert.Equal("City of Lost Children, The (Cité des enfants perdus, La) (1995)", raw.ItemAttributes.Get(item, "title")![0]);
        Assert.Equal("1995", raw.ItemAttributes.Get(item, "release_year")![0]);
        Assert.Equal(5, raw.ItemAttributes.Get(item, "genre")!.Length);
        Assert.Null(raw.UserAttributes.Get(0, "gender")); // 10M/20M have no users file
        // ratings.dat ordering: timestamp then file order, so user 1 sees item 29 first
        var cfg = DataConfig.Parse("name: m\nsource: {path: ml-20m}\nfields: [{name: item_id}]\nsequence: {name: s, from: all}\n");
        var d = SharpCtr.Data.Protocol.ProtocolBuilder.Build(raw, cfg);
        Assert.Equal("29", d.Vocabulary("item_id").Token(d.Field("item_id").Ids[0]));
    }
}
