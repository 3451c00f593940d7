using System.Text.Json;
using SharpCtr.Data.Encoded;
using SharpCtr.Training.Evaluation;
using SharpCtr.Training.Experiments;
using SharpCtr.Training.Tests.Models;

namespace SharpCtr.Training.Tests.Evaluation;

public sealed class InterestVolatilityTests(PlantedDataFixture fixture) : IClassFixture<PlantedDataFixture>
{
    [Theory]
    [InlineData(new[] { 1, 2 }, new[] { 2, 3 }, 2.0 / 3)]
    [InlineData(new[] { 1, 2 }, new[] { 2, 1 }, 0.0)]
    [InlineData(new[] { 1 }, new[] { 2 }, 1.0)]
    [InlineData(new[] { 1, 2, 3, 0, 0 }, new[] { 3, 0 }, 2.0 / 3)]   // padding is not a genre
    [InlineData(new[] { 4, 4 }, new[] { 4 }, 0.0)]                    // sets, not lists
    [InlineData(new int[0], new int[0], 0.0)]
    public void JaccardDistanceOfHandPickedSets(int[] a, int[] b, double expected) =>
        Assert.Equal(expected, InterestVolatility.JaccardDistance(a, b), 1e-12);

    /// <summary>
    /// User 0 trains on genre sets {1,2}, {2,3}, {3} (distances 2/3 and 1/2), then a test row with
    /// {5} that must not count; user 1 on {1}, {1} (0); user 2 has one training row (undefined).
    /// </summary>
    static EncodedDataset ThreeUsers()
    {
        int[][] genres = [[1, 2], [2, 3], [3], [5], [1], [1], [4], [2], [2], [4]];
        int[] user = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2];
        byte[] split = [0, 0, 0, 2, 0, 0, 2, 2, 0, 2];
        var offsets = new int[genres.Length + 1];
        for (int i = 0; i < genres.Length; i++) offsets[i + 1] = offsets[i] + genres[i].Length;
        return new EncodedDataset
        {
            Name = "three-users", Count = genres.Length, Labels = [1, 0, 1, 1, 0, 1, 1, 0, 1, 0], User = user, Group = user, Split = split,
            Fields = [new EncodedField { Name = "genre", Kind = "multi", Source = "item.genre", VocabSize = 6, Width = 2, Ids = genres.SelectMany(g => g).ToArray(), Offsets = offsets }],
            Vocabularies = [], UserCount = 3,
        };
    }

    [Fact]
    public void VolatilityIsTheMeanDistanceBetweenConsecutiveTrainingRows()
    {
        var v = InterestVolatility.PerUser(ThreeUsers(), "genre");
        Assert.Equal((2.0 / 3 + 0.5) / 2, v[0], 1e-12);
        Assert.Equal(0.0, v[1], 1e-12);
        Assert.True(double.IsNaN(v[2]));
    }

    [Fact]
    public void UsersAreCutAtTheMedianAndAUserWithoutVolatilityIsInNeitherGroup()
    {
        var g = InterestVolatility.Split(InterestVolatility.PerUser(ThreeUsers(), "genre"));
        Assert.Equal(((2.0 / 3 + 0.5) / 2 + 0) / 2, g.Threshold, 1e-12);
        Assert.True(g.IsFast(0));
        Assert.True(g.IsSlow(1));
        Assert.False(g.IsFast(2) || g.IsSlow(2));
        Assert.Equal((1, 1), (g.FastUsers, g.SlowUsers));
    }

    [Fact]
    public void EachGroupIsScoredOnItsOwnUsersTestRows()
    {
        var data = ThreeUsers();
        var g = InterestVolatility.Split(InterestVolatility.PerUser(data, "genre"));
        int[] test = [3, 6, 7, 9];
        float[] scores = [0.9f, 0.8f, 0.7f, 0.1f];
        var (fast, slow) = InterestVolatility.Evaluate(data, test, scores, g);
        Assert.Equal(1, fast.Rows);                                   // user 0's row 3
        Assert.Equal(2, slow.Rows);                                   // user 1's rows 6 (label 1, 0.8) and 7 (label 0, 0.7)
        Assert.Equal(1.0, slow.Auc, 1e-12);
        Assert.Equal(-(Math.Log(0.8) + Math.Log(0.3)) / 2, slow.LogLoss, 1e-5);
        Assert.Equal(-Math.Log(0.9), fast.LogLoss, 1e-5);
    }

    [Fact]
    public void AFieldThatIsNotThereIsNamed()
    {
        var e = Assert.Throws<SharpCtr.Data.Config.ConfigException>(() => InterestVolatility.PerUser(ThreeUsers(), "genres"));
        Assert.Contains("'genres'", e.Message);
        Assert.Contains("genre", e.Message);
    }

    [Fact]
    public void AReloadedRunScoresTheTestSplitAsItDidWhenItFinished()
    {
        var data = fixture.Data;
        var cfg = Path.Combine(data.Root, "vol-lr.yaml");
        File.WriteAllText(cfg, "name: lr\ndata: {include: data.yaml}\nmodel: {name: lr}\ntrain: {epochs: 1, batch_size: 256, learning_rate: 0.01, seed: 7}\n");
        var outDir = Path.Combine(data.Root, "vol-compare");
        new Comparison([cfg], seeds: 2, outDir, data.Root, [], TextWriter.Null).Run("lr", "lr");

        var run = TrainedRun.Load(Path.Combine(outDir, "lr", "seed8"), data.Root);
        var test = run.Data.Indices(Splits.Test);
        var auc = Evaluator.Metrics(run.Data, test, Evaluator.Predict(run.Model, run.Data, test, 1000)).Auc;
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "lr", "seed8", "metrics.json")));
        Assert.Equal(metrics.RootElement.GetProperty("test").GetProperty("auc").GetDouble(), auc, 1e-9);

        var r = VolatilityReport.Run(outDir, [], "genre", null, data.Root, TextWriter.Null);
        Assert.Equal(["lr"], r.Table.Models.Select(m => m.Model));
        Assert.Equal([7, 8], r.Table.Models[0].Seeds);
        int grouped = test.Count(i => r.Groups.IsFast(run.Data.User[i]) || r.Groups.IsSlow(run.Data.User[i]));
        Assert.Equal(grouped, r.FastRows + r.SlowRows);
        Assert.True(r.FastRows > 0 && r.SlowRows > 0);
        Assert.All(r.Table.Models[0].ValuesOf("fast_auc"), v => Assert.InRange(v, 0.5, 1.0));

        // the user-pair split of the same runs: its AUC is the run's own, and the two sides mix back into it
        var pairs = UserPairReport.Run(outDir, [], null, "cross_user_auc", data.Root, TextWriter.Null).Models[0];
        Assert.Equal(auc, pairs.ValuesOf("auc")[1], 1e-9);
        for (int i = 0; i < 2; i++)
        {
            double share = pairs.ValuesOf("same_user_share")[i];
            Assert.InRange(share, 1e-6, 1 - 1e-6);
            Assert.Equal(pairs.ValuesOf("auc")[i],
                share * pairs.ValuesOf("same_user_auc")[i] + (1 - share) * pairs.ValuesOf("cross_user_auc")[i], 9);
        }

        // A model the folder does not hold is named with what it does hold; a folder without finished runs says so.
        var missing = Assert.Throws<DirectoryNotFoundException>(() => UserPairReport.Run(outDir, ["deepfm"], null, "cross_user_auc", data.Root, TextWriter.Null));
        Assert.Contains("deepfm: no such model folder", missing.Message);
        Assert.Contains("holds: lr", missing.Message);
        var unfinished = Path.Combine(data.Root, "vol-unfinished");
        Directory.CreateDirectory(Path.Combine(unfinished, "lr", "seed7"));
        var empty = Assert.Throws<FileNotFoundException>(() => VolatilityReport.Run(unfinished, ["lr"], "genre", null, data.Root, TextWriter.Null));
        Assert.Contains("no finished seed runs", empty.Message);
        Assert.Throws<FileNotFoundException>(() => VolatilityReport.Run(unfinished, [], "genre", null, data.Root, TextWriter.Null));
    }
}
