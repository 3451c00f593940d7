using SharpCtr.Data.Batching;
using SharpCtr.Data.Encoded;
using SharpCtr.Models;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;
using SharpCtr.Training.Evaluation;
using SharpCtr.Training.Experiments;
using SharpCtr.Training.Trainer;

namespace SharpCtr.Training.Tests.Models;

/// <summary>
/// The feature-interaction baselines of GenCI Table 3, table-driven: each variant (model name plus
/// config overrides) must learn the planted signal, score a batch exactly as row by row, and send a
/// gradient to every parameter.
/// </summary>
public sealed class FeatureInteractionZooTests(PlantedDataFixture fixture) : IClassFixture<PlantedDataFixture>
{
    readonly PlantedData data = fixture.Data;

    /// <summary>Every variant: model name, then `key=value` overrides of the model section.</summary>
    public static TheoryData<string, string> Variants => new()
    {
        { "fwfm", "" },
        { "nfm", "" },
        { "pnn", "product=inner" },
        { "pnn", "product=outer" },
        { "dcnv2", "structure=parallel" },
        { "dcnv2", "structure=stacked" },
        { "dcnv2", "low_rank=4" },
        { "autoint_plus", "" },
        { "xdeepfm", "" },
        { "afn_plus", "" },
        { "fignn", "" },
        { "rfm", "" },
        { "sfg", "" },
    };

    // Small networks keep the whole table fast; the structure under test is unchanged.
    static readonly string[] Small = ["model.mlp=[32, 32]", "model.afn_mlp=[32]", "model.logarithmic_neurons=16", "model.modulus_mlp=[32]",
        "model.attention_dim=8", "model.cin=[8, 8]", "model.steps=2"];

    Experiment Load(string model, string overrides, params string[] extra)
    {
        var sets = new List<string> { $"model.name={model}" };
        foreach (var kv in overrides.Split(' ', StringSplitOptions.RemoveEmptyEntries)) sets.Add("model." + kv);
        foreach (var s in Small)
            if (Applies(model, s)) sets.Add(s);
        sets.AddRange(extra);
        return Experiment.Load(data.ExperimentPath, sets);
    }

    /// <summary>Only keys the model reads: unknown model keys are config errors.</summary>
    static bool Applies(string model, string set) => set switch
    {
        _ when set.StartsWith("model.mlp=") => model is not ("fm" or "fwfm" or "fignn" or "rfm"),
        _ when set.StartsWith("model.afn_mlp=") || set.StartsWith("model.logarithmic_neurons=") => model == "afn_plus",
        _ when set.StartsWith("model.modulus_mlp=") => model == "rfm",
        _ when set.StartsWith("model.attention_dim=") => model == "autoint_plus",
        _ when set.StartsWith("model.cin=") => model == "xdeepfm",
        _ when set.StartsWith("model.steps=") => model == "fignn",
        _ => true,
    };

    CtrModel Create(string model, string overrides)
    {
        var exp = Load(model, overrides);
        return ModelRegistry.Create(new ModelContext(data.Dataset, exp.Model, new Rng(1)));
    }

    [Theory]
    [InlineData("dcnv2", "structure=parallel")]
    [InlineData("xdeepfm", "")]
    [InlineData("autoint_plus", "")]
    [InlineData("afn_plus", "")]
    [InlineData("sfg", "")]
    public void ARequestScoresTheSameWithTheUsersColumnsFolded(string model, string overrides)
    {
        // their deep part reads the flat field embeddings: the user's columns fold once per request
        var m = Create(model, overrides);
        RequestFoldingTests.AssertFoldedMatchesUnfolded(m, RequestFoldingTests.Request(data.Dataset, 30),
            m.Modules().Select(x => x.Value).OfType<Mlp>().ToArray(), model);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void LearnsThePlantedSignal(string model, string overrides)
    {
        var outDir = Path.Combine(data.Root, "runs", "zoo-" + model + "-" + overrides.Replace('=', '-'));
        var r = new ModelTrainer(Load(model, overrides), data.Dataset, outDir, TextWriter.Null).Run(resume: false);
        Assert.True(r.Test.Auc > 0.70, $"{model} {overrides}: test AUC {r.Test.Auc:F4} ≤ 0.70");
        Assert.True(double.IsFinite(r.Test.LogLoss), $"{model} {overrides}: log loss {r.Test.LogLoss}");
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void BatchScoresEqualOneByOneScores(string model, string overrides)
    {
        var m = Create(model, overrides);
        var rows = data.Dataset.Indices(Splits.Test)[..37];
        var batched = Evaluator.Predict(m, data.Dataset, rows, batchSize: 37);
        var single = Evaluator.Predict(m, data.Dataset, rows, batchSize: 1);
        for (int i = 0; i < rows.Length; i++)
            Assert.True(MathF.Abs(batched[i] - single[i]) < 1e-5f, $"{model} {overrides} row {i}: batch {batched[i]} vs single {single[i]}");
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void EveryParameterGetsAGradient(string model, string overrides)
    {
        var m = Create(model, overrides);
        var batch = new Batch(data.Dataset, 64);
        batch.Fill(data.Dataset, data.Dataset.Indices(Splits.Train)[..64]);
        using (var tape = Tape.Train())
        {
            var loss = Ops.BceWithLogits(m.Forward(batch).Logits, Tensor.FromArray(batch.Labels, 64));
            Assert.True(float.IsFinite(loss.Data[0]), $"{model} {overrides}: loss {loss.Data[0]}");
            tape.Backward(loss);
        }
        foreach (var (name, p) in m.Parameters())
        {
            bool has = p.SparseGrad is { Count: > 0 } || (p.Grad is not null && p.Grad.ToArray().Any(v => v != 0));
            Assert.True(has, $"{model} {overrides}: parameter {name} got no gradient");
        }
    }

    [Fact]
    public void FwFmWithUnitPairWeightsScoresLikeFm()
    {
        // FwFM starts from r = 1: with the same seed its embeddings match FM's, so the logits must too.
        var fwfm = Create("fwfm", "");
        var fm = Create("fm", "");
        var rows = data.Dataset.Indices(Splits.Test)[..16];
        var a = Evaluator.Predict(fwfm, data.Dataset, rows, batchSize: 16);
        var b = Evaluator.Predict(fm, data.Dataset, rows, batchSize: 16);
        for (int i = 0; i < rows.Length; i++) Assert.Equal(b[i], a[i], 1e-5);
    }
}
