using SharpCtr.Data.Encoded;
using SharpCtr.Data.Protocol;

namespace SharpCtr.Data.Tests.Protocol;

public class MovieLensFixtureTests
{
    static EncodedDataset Build(string layoutDir, string? sequenceFrom = null)
    {
        var sets = new List<string> { $"source.path={layoutDir}" };
        if (sequenceFrom != null) sets.Add($"sequence.from={sequenceFrom}");
        var cfg = DataConfig.Load(Repo.Fixture("ml-fixture.yaml"), sets);
        return ProtocolBuilder.Build(DatasetLoader.ReadRaw(cfg, Repo.Fixture("")), cfg);
    }

    static string Item(EncodedDataset d, int id) => d.Vocabulary("item_id").Token(id)!;

    [Fact]
    public void LabelsSplitsAndHistoriesFollowTheProtocol()
    {
        var d = Build("ml-dat");
        Assert.Equal(17, d.Interactions);      // 18 ratings, one 3 dropped
        Assert.Equal(3, d.UserCount);
        Assert.Equal(13, d.Positives);
        Assert.Equal(new[] { 7 + 4 + 2, 1, 1 + 1 + 1 }, new[] { d.Indices(Splits.Train).Length, d.Indices(Splits.Valid).Length, d.Indices(Splits.Test).Length });

        // user 1's samples, chronological (ties by file order): 10 12 14 11 15 16 17 18 19
        var ids = d.Field("item_id").Ids;
        var user1 = Enumerable.Range(0, d.Count).Where(i => d.Vocabulary("user_id").Token(d.Field("user_id").Ids[i]) == "1").ToArray();
        Assert.Equal(new[] { "10", "12", "14", "11", "15", "16", "17", "18", "19" }, user1.Select(i => Item(d, ids[i])));
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0, 1, 2 }, user1.Select(i => d.Split[i]));
        // item 18's history: earlier positives 10 12 14 15 17, the most recent 4
        var s = d.Sequence!;
        int at18 = user1[7];
        var hist = s.Items.AsSpan(s.SampleStart[at18], s.SampleLength[at18]).ToArray().Select(x => Item(d, x));
        Assert.Equal(new[] { "12", "14", "15", "17" }, hist);
        Assert.Equal(0, s.SampleLength[user1[0]]);
        // side field: first genre of each history item, from the same vocabulary as the genre field
        var genres = d.Vocabulary("item.genre");
        Assert.Equal(new[] { "Action", "Thriller", "Drama", "Comedy" }, s.Sides[0].Ids.AsSpan(s.SampleStart[at18], 4).ToArray().Select(g => genres.Token(g)));
        // sequences are stored once per user: 13 positives in all
        Assert.Equal(13, s.Items.Length);
        // multi-valued genres and release year from the title; Latin-1 title decoded
        var g = d.Field("genre");
        int toyStory = user1[0];
        Assert.Equal(new[] { "Animation", "Children's", "Comedy" }, g.Ids[g.Offsets[toyStory]..g.Offsets[toyStory + 1]].Select(x => genres.Token(x)));
        Assert.Equal("1995", d.Vocabulary("item.release_year").Token(d.Field("release_year").Ids[toyStory]));
    }

    [Fact]
    public void AllRatedHistoryIncludesNegatives()
    {
        var d = Build("ml-dat", "all");
        Assert.Equal(17, d.Sequence!.Items.Length);
    }

    [Fact]
    public void RatingsChronoAndRatingsDatGiveTheSameDataSet()
    {
        var a = Build("ml-dat");
        var b = Build("ml-chrono");
        Assert.Equal(a.Count, b.Count);
        Assert.Equal(a.Labels.Order(), b.Labels.Order());
        // ids are assigned by count, then string order: independent of file order
        Assert.Equal(a.Vocabulary("item_id").Tokens, b.Vocabulary("item_id").Tokens);
        // samples are grouped by user in first-seen order, which differs; compare per user
        foreach (var user in new[] { "1", "2", "3" })
        {
            Assert.Equal(Rows(a, user), Rows(b, user));
        }

        static List<string> Rows(EncodedDataset d, string user)
        {
            var uid = d.Vocabulary("user_id");
            var rows = new List<string>();
            var s = d.Sequence!;
            for (int i = 0; i < d.Count; i++)
                if (uid.Token(d.Field("user_id").Ids[i]) == user)
                    rows.Add($"{d.Field("item_id").Ids[i]}:{d.Labels[i]}:{d.Split[i]}:{string.Join(',', s.Items.AsSpan(s.SampleStart[i], s.SampleLength[i]).ToArray())}");
            return rows;
        }
    }

    [Fact]
    public void MinCountSendsRareValuesToOov()
    {
        var cfg = DataConfig.Load(Repo.Fixture("ml-fixture.yaml"), new[] { "vocab.min_count=3" });
        var d = ProtocolBuilder.Build(DatasetLoader.ReadRaw(cfg, Repo.Fixture("")), cfg);
        var items = d.Vocabulary("item_id");
        foreach (var t in items.Tokens) Assert.True(d.Field("item_id").Ids.Count(x => items.Token(x) == t) >= 3);
        Assert.Contains(1, d.Field("item_id").Ids);   // rare items are OOV
        Assert.DoesNotContain(0, d.Field("item_id").Ids); // never padding

        var hashed = DataConfig.Load(Repo.Fixture("ml-fixture.yaml"), new[] { "vocab.hash_buckets=5" });
        var h = ProtocolBuilder.Build(DatasetLoader.ReadRaw(hashed, Repo.Fixture("")), hashed);
        Assert.Equal(7, h.Field("item_id").VocabSize);
        Assert.All(h.Field("item_id").Ids, x => Assert.InRange(x, 2, 6));
    }
}
