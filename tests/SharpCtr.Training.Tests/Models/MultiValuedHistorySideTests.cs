using SharpCtr.Data.Batching;
using SharpCtr.Data.Encoded;
using SharpCtr.Models;
using SharpCtr.Models.BehaviorSequence;
using SharpCtr.Tensors;
using SharpCtr.Training.Evaluation;
using SharpCtr.Training.Experiments;
using SharpCtr.Training.Trainer;

namespace SharpCtr.Training.Tests.Models;

public sealed class MultiGenrePlantedFixture : IDisposable
{
    public PlantedData Data { get; } = new(multiGenre: true);
    public void Dispose() => Data.Dispose();
}

/// <summary>
/// A history side field with several ids per position (all of an item's genres): each position's
/// key is the mean of its ids' rows, the target's key the mean of its own, and pooled histories
/// pool every id — checked against plain loops over the tables, then through the models.
/// </summary>
public sealed class MultiValuedHistorySideTests(MultiGenrePlantedFixture fixture) : IClassFixture<MultiGenrePlantedFixture>
{
    readonly PlantedData data = fixture.Data;
    const int Dim = 4;

    Experiment Load(string model, params string[] extra) =>
        Experiment.Load(data.ExperimentPath, new[] { $"model.name={model}", "model.mlp=[64, 32]" }.Concat(extra));

    (FeatureEmbeddings Emb, Batch Batch, int[] Rows) Embedded(params int[] testRows)
    {
        var emb = new FeatureEmbeddings(data.Dataset, Dim, new Rng(7), initStd: 0.5f);
        var test = data.Dataset.Indices(Splits.Test);
        var rows = testRows.Select(i => test[i]).ToArray();
        var batch = new Batch(data.Dataset, rows.Length);
        batch.Fill(data.Dataset, rows);
        return (emb, batch, rows);
    }

    /// <summary>The mean of the table rows of the non-padding ids in ids[from..from+width).</summary>
    static float[] MeanRow(float[] table, int[] ids, int from, int width)
    {
        var mean = new float[Dim];
        int count = 0;
        for (int k = from; k < from + width && ids[k] != 0; k++, count++)
            for (int d = 0; d < Dim; d++) mean[d] += table[ids[k] * Dim + d];
        for (int d = 0; d < Dim; d++) mean[d] = count == 0 ? 0 : mean[d] / count;
        return mean;
    }

    [Fact]
    public void TheDataKeepsEveryGenreOfAHistoryItem()
    {
        var side = data.Dataset.Sequence!.Sides.Single();
        Assert.Equal(3, side.Width);
        int two = 0;
        for (int j = 0; j < side.Ids.Length / 3; j++) if (side.Ids[j * 3 + 1] != 0) two++;
        Assert.True(two > side.Ids.Length / 3 / 4, $"only {two} history positions carry a second genre");
    }

    [Fact]
    public void EachHistoryKeyIsTheItemRowAndTheMeanOfItsGenreRows()
    {
        var (emb, batch, _) = Embedded(0, 3, 7, 11);
        var packed = emb.PackedSequence(batch);
        var sv = batch.Sequence("item_seq");
        var genre = sv.Side("genre");
        float[] items = emb.Table("item_id").Weight.Data, genres = emb.Table("item.genre").Weight.Data;
        int checkedPositions = 0;
        for (int r = 0; r < batch.Count; r++)
            for (int l = 0; l < sv.Lengths[r]; l++)
            {
                int key = packed.RowKey[packed.Offsets[r] + l];
                var expectedGenre = MeanRow(genres, genre, (r * sv.MaxLen + l) * 3, 3);
                for (int d = 0; d < Dim; d++)
                {
                    Assert.Equal(items[sv.Items[r * sv.MaxLen + l] * Dim + d], packed.Keys.Data[key * 2 * Dim + d], 1e-6);
                    Assert.Equal(expectedGenre[d], packed.Keys.Data[key * 2 * Dim + Dim + d], 1e-5);
                }
                checkedPositions++;
            }
        Assert.True(checkedPositions > 10);
    }

    [Fact]
    public void TheTargetKeyUsesTheMeanOfItsGenresLikeTheHistory()
    {
        var (emb, batch, _) = Embedded(1, 2, 5);
        var query = TargetQuery.Embed(emb, batch, ["item_id", "genre"]);
        var m = batch.MultiField("genre");
        float[] genres = emb.Table("item.genre").Weight.Data;
        for (int r = 0; r < batch.Count; r++)
        {
            var expected = MeanRow(genres, m.Ids, r * m.Width, m.Width);
            for (int d = 0; d < Dim; d++) Assert.Equal(expected[d], query.Data[r * 2 * Dim + Dim + d], 1e-5);
        }
    }

    [Fact]
    public void APooledHistoryAveragesEveryGenreOfEveryPosition()
    {
        var (emb, batch, _) = Embedded(0, 0, 4, 9);   // two candidates share a history: pooled once
        var pooled = emb.PooledSequence(batch);
        var sv = batch.Sequence("item_seq");
        var genre = sv.Side("genre");
        float[] genres = emb.Table("item.genre").Weight.Data;
        for (int r = 0; r < batch.Count; r++)
        {
            var sum = new float[Dim];
            int count = 0;
            for (int k = r * sv.MaxLen * 3; k < (r * sv.MaxLen + sv.Lengths[r]) * 3; k++)
                if (genre[k] != 0) { count++; for (int d = 0; d < Dim; d++) sum[d] += genres[genre[k] * Dim + d]; }
            for (int d = 0; d < Dim; d++) Assert.Equal(count == 0 ? 0 : sum[d] / count, pooled[1].Data[r * Dim + d], 1e-5);
        }
    }

    [Fact]
    public void HistoriesThatDifferOnlyInASecondGenreAreNotShared()
    {
        var (emb, batch, _) = Embedded(0, 0);
        var sv = batch.Sequence("item_seq");
        Assert.True(sv.Lengths[1] > 0);
        var genre = sv.Side("genre");
        int second = (1 * sv.MaxLen) * 3 + 1;   // sample 1, position 0, second genre
        genre[second] = genre[second] == 2 ? 3 : 2;
        var packed = emb.PackedSequence(batch);
        Assert.False(packed.Shared);
    }

    public static TheoryData<string, double> Learners => new()
    {
        { "din", 0.70 }, { "deepfm", 0.70 }, { "dien", 0.70 }, { "sim", 0.70 },
    };

    [Theory]
    [MemberData(nameof(Learners))]
    public void LearnsThePlantedSignalFromAllGenres(string model, double minAuc)
    {
        var outDir = Path.Combine(data.Root, "runs", "multi-" + model);
        var r = new ModelTrainer(Load(model), data.Dataset, outDir, TextWriter.Null).Run(resume: false);
        Assert.True(r.Test.Auc > minAuc, $"{model}: test AUC {r.Test.Auc:F4} ≤ {minAuc}");
    }

    public static TheoryData<string> SequenceModels => new() { "din", "deepfm", "dien", "twin", "hstu", "qin", "ddrm", "mirrn", "sim" };

    [Theory]
    [MemberData(nameof(SequenceModels))]
    public void BatchScoresEqualOneByOneScores(string model)
    {
        var m = ModelRegistry.Create(new ModelContext(data.Dataset, Load(model).Model, new Rng(1)));
        var test = data.Dataset.Indices(Splits.Test);
        int[] rows = [test[0], test[0], test[0], test[5], test[5], .. test[9..30]];
        var batched = Evaluator.Predict(m, data.Dataset, rows, batchSize: rows.Length);
        var single = Evaluator.Predict(m, data.Dataset, rows, batchSize: 1);
        for (int i = 0; i < rows.Length; i++)
            Assert.True(MathF.Abs(batched[i] - single[i]) < 1e-5f, $"{model} row {i}: batch {batched[i]} vs single {single[i]}");
    }

    [Fact]
    public void DinFusedInferenceEqualsTheOpByOpUnit()
    {
        var fused = (SharpCtr.Models.BehaviorSequence.Din)ModelRegistry.Create(new ModelContext(data.Dataset, Load("din").Model, new Rng(1)));
        var rows = data.Dataset.Indices(Splits.Test)[..40];
        var a = Evaluator.Predict(fused, data.Dataset, rows, batchSize: 40);
        fused.UseFusedAttention = false;
        var b = Evaluator.Predict(fused, data.Dataset, rows, batchSize: 40);
        for (int i = 0; i < rows.Length; i++) Assert.True(MathF.Abs(a[i] - b[i]) < 1e-5f, $"row {i}: fused {a[i]} vs op-by-op {b[i]}");
    }

    /// <summary>CDP's overlap gate keeps exactly the history items sharing any genre with the target
    /// (the same gate keeps those whose first genre is the target's first); x0 is their mean.</summary>
    [Theory]
    [InlineData("same")]
    [InlineData("overlap")]
    public void CdpGateKeepsTheHistoryItemsThatShareTheTargetsCategory(string gate)
    {
        var m = (SharpCtr.Models.Diffusion.Cdp)ModelRegistry.Create(new ModelContext(data.Dataset,
            Load("cdp", "model.x0_norm=none", "model.train_steps=5", $"model.gate={gate}").Model, new Rng(1)));
        var rows = data.Dataset.Indices(Splits.Test)[..200];
        var batch = new Batch(data.Dataset, rows.Length);
        batch.Fill(data.Dataset, rows);
        var (x0, _) = m.Purify(batch);
        var table = m.Parameters().First(p => p.Name == "embeddings.table.item_id.weight").Value;
        var empty = m.Parameters().First(p => p.Name == "empty_history").Value;
        var seq = batch.Sequence("item_seq");
        var genres = seq.Side("genre");
        var target = batch.MultiField("genre");
        int dim = table.Shape[1], w = seq.SideWidth("genre"), onlyBySecondGenre = 0;
        for (int r = 0; r < rows.Length; r++)
        {
            var targets = target.Ids.AsSpan(r * target.Width, target.Lengths[r]).ToArray();
            var expect = new float[dim];
            int count = 0;
            for (int l = 0; l < seq.Lengths[r]; l++)
            {
                var own = genres.AsSpan((r * seq.MaxLen + l) * w, w).ToArray().Where(g => g != 0).ToArray();
                bool sameFirst = own.Length > 0 && targets.Length > 0 && own[0] == targets[0];
                bool overlap = own.Intersect(targets).Any();
                if (overlap && !sameFirst) onlyBySecondGenre++;
                if (gate == "same" ? sameFirst : overlap)
                {
                    count++;
                    for (int k = 0; k < dim; k++) expect[k] += table.Data[seq.Items[r * seq.MaxLen + l] * dim + k];
                }
            }
            for (int k = 0; k < dim; k++)
                Assert.Equal(count == 0 ? empty.Data[k] : expect[k] / count, x0[r * dim + k], 1e-5);
        }
        Assert.True(onlyBySecondGenre > 20, $"only {onlyBySecondGenre} history items share a genre other than the first: the gates are not told apart");
    }
}
