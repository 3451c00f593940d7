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
        AssertFoldedMatchesUnfolded(m, Request(data.Dataset, 30), m.Modules().Select(x => x.Value).OfType<Mlp>().ToArray(), model);
    }

    /// <summary>`mlp: []` (a linear deep part) leaves no first layer to fold into: the request is scored
    /// the ordinary way, as in evaluation. Before the check it threw from the request path.</summary>
    [Theory]
    [InlineData("deepfm")]
    [InlineData("din")]
    public void AModelWithoutHiddenLayersScoresARequestUnfolded(string model)
    {
        var exp = Experiment.Load(data.ExperimentPath, [$"model.name={model}", "model.mlp=[]"]);
        var m = ModelRegistry.Create(new ModelContext(data.Dataset, exp.Model, new Rng(1)));
        var request = Request(data.Dataset, 30);
        m.Eval();
        var plain = Scores(m, request);
        m.Freeze();
        Assert.Equal(plain, Scores(m, request));
        Assert.Equal(0, m.Modules().Select(x => x.Value).OfType<Mlp>().Sum(x => x.FoldedRequests));
    }

    /// <summary>A ranking request: <paramref name="candidates"/> test rows, all given the last test row's user fields and history.</summary>
    internal static Batch Request(EncodedDataset d, int candidates)
    {
        var test = d.Indices(Splits.Test);
        var request = new Batch(d, candidates);
        request.Fill(d, test[..candidates]);
        var user = new Batch(d, 1);
        user.Fill(d, [test[^1]]);
        RequestLatency.ShareUser(d, user, request);
        return request;
    }

    /// <summary>
    /// Scores <paramref name="request"/> unfolded (Eval: no packed weights) and folded (Freeze), and
    /// checks that one of <paramref name="mlps"/> folded it and that the scores agree to rounding.
    /// Embeddings are first set to a trained scale, so the user's columns weigh in the first layer
    /// (their initial std is 1e-4).
    /// </summary>
    internal static void AssertFoldedMatchesUnfolded(CtrModel m, Batch request, IReadOnlyList<Mlp> mlps, string what)
    {
        var rng = new Random(2);
        foreach (var table in m.EmbeddingTables())
            for (int i = 0; i < table.Size; i++) table.Data[i] = (float)rng.NextDouble() - 0.5f;
        m.Eval();
        var plain = Scores(m, request);
        Assert.Equal(0, mlps.Sum(x => x.FoldedRequests));
        m.Freeze();
        var folded = Scores(m, request);
        Assert.True(mlps.Sum(x => x.FoldedRequests) >= 1, $"{what}: the request was scored without folding the user's columns");
        double spread = plain.Max() - plain.Min();
        Assert.True(spread > 1e-3, $"{what}: candidates score alike ({spread}); the comparison would say nothing");
        for (int i = 0; i < plain.Length; i++)
            Assert.True(MathF.Abs(plain[i] - folded[i]) <= 1e-5f * (1 + MathF.Abs(plain[i])), $"{what} candidate {i}: unfolded {plain[i]} vs folded {folded[i]}");
    }

    static float[] Scores(CtrModel m, Batch b)
    {
        using (Tape.Inference()) return m.Forward(b).Logits.Data.AsSpan(0, b.Count).ToArray();
    }
}
