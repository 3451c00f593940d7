using SharpCtr.Data.Batching;
using SharpCtr.Data.Encoded;
using SharpCtr.Models;
using SharpCtr.Tensors;
using SharpCtr.Training.Evaluation;
using SharpCtr.Training.Experiments;
using SharpCtr.Training.Trainer;

namespace SharpCtr.Training.Tests.Models;

/// <summary>The behaviour-sequence zoo (DIEN, TWIN, HSTU, QIN, DDRM, MIRRN) against the planted data set.</summary>
public sealed class SequenceZooTests(PlantedDataFixture fixture) : IClassFixture<PlantedDataFixture>
{
    readonly PlantedData data = fixture.Data;

    public static TheoryData<string> Models => new() { "dien", "twin", "hstu", "qin", "ddrm", "mirrn" };

    Experiment Load(string model, params string[] extra) =>
        Experiment.Load(data.ExperimentPath, new[] { $"model.name={model}", "model.mlp=[64, 32]" }.Concat(extra));

    CtrModel Create(string model) => ModelRegistry.Create(new ModelContext(data.Dataset, Load(model).Model, new Rng(1)));

    // HSTU's length-normalised pointwise attention learns the planted genre match more slowly:
    // 3 epochs reach ~0.68 (it passes 0.70 at 6 epochs), above the 0.60 that LR must clear in
    // ModelTests. MIRRN's bar is the regression test for the LayerNorms once in its refinement
    // blocks: with them it stops at 0.669 here (best epoch 2, whatever the budget; below LR on
    // MovieLens-1M). Without them it was at 0.67–0.69 after 3 epochs depending on float rounding
    // (engine changes moved it across 0.68), so it gets 5 epochs: 0.718, clear of the bug's 0.669.
    [Theory]
    [InlineData("dien", 0.70)]
    [InlineData("twin", 0.70)]
    [InlineData("hstu", 0.66)]
    [InlineData("qin", 0.70)]
    [InlineData("ddrm", 0.70)]
    [InlineData("mirrn", 0.70, 5)]
    public void LearnsThePlantedSignal(string model, double minAuc, int epochs = 3)
    {
        var outDir = Path.Combine(data.Root, "runs", "zoo-" + model);
        var r = new ModelTrainer(Load(model, $"train.epochs={epochs}"), data.Dataset, outDir, TextWriter.Null).Run(resume: false);
        Assert.True(r.Test.Auc > minAuc, $"{model}: test AUC {r.Test.Auc:F4} ≤ {minAuc}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void BatchScoresEqualOneByOneScores(string model)
    {
        var m = Create(model);
        var test = data.Dataset.Indices(Splits.Test);
        // The first rows repeat so that consecutive samples share a history, as a request's candidates do.
        int[] rows = [test[0], test[0], test[0], test[5], test[5], .. test[9..40]];
        var batched = Evaluator.Predict(m, data.Dataset, rows, batchSize: rows.Length);
        var single = Evaluator.Predict(m, data.Dataset, rows, batchSize: 1);
        for (int i = 0; i < rows.Length; i++)
            Assert.True(MathF.Abs(batched[i] - single[i]) < 1e-5f, $"{model} row {i}: batch {batched[i]} vs single {single[i]}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void EveryParameterGetsAGradient(string model)
    {
        var m = Create(model);
        var batch = new Batch(data.Dataset, 64);
        batch.Fill(data.Dataset, data.Dataset.Indices(Splits.Train)[..64]);
        using (var tape = Tape.Train())
        {
            var output = m.Forward(batch);
            var loss = Ops.BceWithLogits(output.Logits, Tensor.FromArray(batch.Labels, 64));
            foreach (var (_, aux) in output.AuxLosses) loss = Ops.Add(loss, aux);
            tape.Backward(loss);
        }
        foreach (var (name, p) in m.Parameters())
        {
            bool has = p.SparseGrad is { Count: > 0 } || (p.Grad is not null && p.Grad.ToArray().Any(v => v != 0));
            Assert.True(has, $"{model}: parameter {name} got no gradient");
        }
    }

    [Fact]
    public void DienAuxiliaryLossIsReportedInTrainingOnly()
    {
        var m = Create("dien");
        var batch = new Batch(data.Dataset, 32);
        batch.Fill(data.Dataset, data.Dataset.Indices(Splits.Train)[..32]);
        using (Tape.Train())
        {
            var aux = Assert.Single(m.Forward(batch).AuxLosses);
            Assert.Equal("dien_aux", aux.Name);
            Assert.True(aux.Value.Data[0] > 0.5f, $"untrained aux BCE {aux.Value.Data[0]} should be near ln 2");
        }
        m.Eval();
        using (Tape.Inference()) Assert.Empty(m.Forward(batch).AuxLosses);
    }
}
