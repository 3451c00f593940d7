using SharpCtr.Data.Batching;
using SharpCtr.Data.Encoded;
using SharpCtr.Models;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;
using SharpCtr.Training.Evaluation;
using SharpCtr.Training.Experiments;

namespace SharpCtr.Training.Tests.Models;

/// <summary>
/// A ranking request (one user, many candidates) scored by a frozen model folds the user's columns
/// of the MLP's first layer into one product per request (<see cref="Mlp.TryForwardRequest"/>):
/// the scores must match the unfolded path, and the fold must actually be taken.
/// </summary>
public sealed class RequestFoldingTests(PlantedDataFixture fixture) : IClassFixture<PlantedDataFixture>
{
    readonly PlantedData data = fixture.Data;

    [Theory]
    [InlineData("deepfm")]
    [InlineData("din")]
    [InlineData("dien")]
    [InlineData("sim")]
    [InlineData("diffrec", "model.train_steps=5")]
    [InlineData("cdp", "model.train_steps=5")]
    public void ARequestScoresTheSameFoldedAndUnfolded(string model, params string[] extra)
    {
        var exp = Experiment.Load(data.ExperimentPath, new[] { $"model.name={model}", "model.mlp=[64, 32]" }.Concat(extra));
        var m = ModelRegistry.Create(new ModelContext(data.Dataset, exp.Model, new Rng(1)));
        // Embeddings at a trained scale, so the user's columns weigh in the first layer (initial std is 1e-4).
        var rng = new Random(2);
        foreach (var table in m.EmbeddingTables())
            for (int i = 0; i < table.Size; i++) table.Data[i] = (float)rng.NextDouble() - 0.5f;

        var test = data.Dataset.Indices(Splits.Test);
        var request = new Batch(data.Dataset, 30);
        request.Fill(data.Dataset, test[..30]);
        var user = new Batch(data.Dataset, 1);
        user.Fill(data.Dataset, [test[^1]]);
        RequestLatency.ShareUser(data.Dataset, user, request);

        var mlps = m.Modules().Select(x => x.Value).OfType<Mlp>().ToArray();
        m.Eval();   // inference, not frozen: no packed weights, so no folding
        var plain = Scores(m, request);
        Assert.Equal(0, mlps.Sum(x => x.FoldedRequests));
        m.Freeze();
        var folded = Scores(m, request);
        Assert.True(mlps.Sum(x => x.FoldedRequests) >= 1, $"{model}: the request was scored without folding the user's columns");
        double spread = plain.Max() - plain.Min();
        Assert.True(spread > 1e-3, $"{model}: candidates score alike ({spread}); the comparison would say nothing");
        for (int i = 0; i < plain.Length; i++)
            Assert.True(MathF.Abs(plain[i] - folded[i]) <= 1e-5f * (1 + MathF.Abs(plain[i])), $"{model} candidate {i}: unfolded {plain[i]} vs folded {folded[i]}");
    }

    static float[] Scores(CtrModel m, Batch b)
    {
        using (Tape.Inference()) return m.Forward(b).Logits.Data.AsSpan(0, b.Count).ToArray();
    }
}
