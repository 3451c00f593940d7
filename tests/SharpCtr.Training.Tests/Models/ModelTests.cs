using SharpCtr.Data.Batching;
using SharpCtr.Data.Encoded;
using SharpCtr.Models;
using SharpCtr.Tensors;
using SharpCtr.Training.Evaluation;
using SharpCtr.Training.Experiments;
using SharpCtr.Training.Trainer;

namespace SharpCtr.Training.Tests.Models;

public sealed class ModelTests(PlantedDataFixture fixture) : IClassFixture<PlantedDataFixture>
{
    readonly PlantedData data = fixture.Data;

    Experiment Load(string model, params string[] extra) =>
        Experiment.Load(data.ExperimentPath, new[] { $"model.name={model}" }.Concat(extra));

    [Theory]
    [InlineData("lr", 0.60)]
    [InlineData("fm", 0.70)]
    [InlineData("deepfm", 0.70)]
    [InlineData("din", 0.70)]
    public void LearnsThePlantedSignal(string model, double minAuc)
    {
        var exp = Load(model);
        var outDir = Path.Combine(data.Root, "runs", model);
        var r = new ModelTrainer(exp, data.Dataset, outDir, TextWriter.Null).Run(resume: false);
        Assert.True(r.Test.Auc > minAuc, $"{model}: test AUC {r.Test.Auc:F4} ≤ {minAuc}");
        Assert.True(File.Exists(Path.Combine(outDir, "metrics.json")));
        Assert.True(File.Exists(Path.Combine(outDir, "config.yaml")));
    }

    [Theory]
    [InlineData("lr")]
    [InlineData("fm")]
    [InlineData("deepfm")]
    [InlineData("din")]
    public void BatchScoresEqualOneByOneScores(string model)
    {
        var exp = Load(model);
        var m = ModelRegistry.Create(new ModelContext(data.Dataset, exp.Model, new Rng(1)));
        var rows = data.Dataset.Indices(Splits.Test)[..37];
        var batched = Evaluator.Predict(m, data.Dataset, rows, batchSize: 37);
        var single = Evaluator.Predict(m, data.Dataset, rows, batchSize: 1);
        for (int i = 0; i < rows.Length; i++)
            Assert.True(MathF.Abs(batched[i] - single[i]) < 1e-5f, $"row {i}: batch {batched[i]} vs single {single[i]}");
    }

    [Theory]
    [InlineData("din")]
    [InlineData("din", "model.use_softmax=true")]
    [InlineData("deepfm")]   // mean-pooled history: pooled once per run of identical histories
    [InlineData("fm")]
    public void CandidatesSharingAHistoryScoreAsIfAlone(string model, params string[] extra)
    {
        var exp = Load(model, extra);
        var m = ModelRegistry.Create(new ModelContext(data.Dataset, exp.Model, new Rng(1)));
        var test = data.Dataset.Indices(Splits.Test);
        int[] rows = [test[0], test[0], test[0], test[5], test[5], test[9]];   // consecutive rows share histories
        var batched = Evaluator.Predict(m, data.Dataset, rows, batchSize: rows.Length);
        var single = Evaluator.Predict(m, data.Dataset, rows, batchSize: 1);
        for (int i = 0; i < rows.Length; i++)
            Assert.True(MathF.Abs(batched[i] - single[i]) < 1e-5f, $"row {i}: batch {batched[i]} vs single {single[i]}");
    }

    [Fact]
    public void DinWithSoftmaxLearnsThePlantedSignal()
    {
        var r = new ModelTrainer(Load("din", "model.use_softmax=true"), data.Dataset, Path.Combine(data.Root, "runs", "din-softmax"), TextWriter.Null).Run(resume: false);
        Assert.True(r.Test.Auc > 0.70, $"din (softmax): test AUC {r.Test.Auc:F4}");
    }

    [Theory]
    [InlineData("deepfm")]
    [InlineData("din")]
    public void EveryParameterGetsAGradient(string model)
    {
        var exp = Load(model);
        var m = ModelRegistry.Create(new ModelContext(data.Dataset, exp.Model, new Rng(1)));
        var batch = new Batch(data.Dataset, 64);
        batch.Fill(data.Dataset, data.Dataset.Indices(Splits.Train)[..64]);
        using (var tape = Tape.Train())
        {
            var loss = Ops.BceWithLogits(m.Forward(batch).Logits, Tensor.FromArray(batch.Labels, 64));
            tape.Backward(loss);
        }
        foreach (var (name, p) in m.Parameters())
        {
            bool has = p.SparseGrad is { Count: > 0 } || (p.Grad is not null && p.Grad.ToArray().Any(v => v != 0));
            Assert.True(has, $"{model}: parameter {name} got no gradient");
        }
    }

    [Theory]
    [InlineData()]
    [InlineData("model.attention_activation=prelu")]
    [InlineData("model.attention_activation=relu", "model.attention_units=[48, 16]")]
    public void DinFusedInferenceEqualsTheOpByOpUnit(params string[] extra)
    {
        // Train a little first, so Dice's running statistics and PReLU's slopes are not at their initial values.
        var exp = Load("din", extra.Append("train.epochs=1").ToArray());
        var outDir = Path.Combine(data.Root, "runs", "din-fused-" + string.Join("-", extra).GetHashCode().ToString("x"));
        var trainer = new ModelTrainer(exp, data.Dataset, outDir, TextWriter.Null);
        trainer.Run(resume: false);
        var m = (SharpCtr.Models.BehaviorSequence.Din)trainer.Model;
        Assert.True(m.HasFusedInference);
        var test = data.Dataset.Indices(Splits.Test);
        int[] rows = [.. test[..40], test[0], test[0], test[0], test[7], test[7]];   // unshared and shared histories
        m.UseFusedAttention = true;
        var fused = Evaluator.Predict(m, data.Dataset, rows, batchSize: rows.Length);
        m.UseFusedAttention = false;
        m.UseFusedUnitInput = false;
        var reference = Evaluator.Predict(m, data.Dataset, rows, batchSize: rows.Length);
        for (int i = 0; i < rows.Length; i++)
            Assert.True(MathF.Abs(fused[i] - reference[i]) < 1e-5f, $"row {i}: fused {fused[i]} vs op-by-op {reference[i]}");
    }

    [Theory]
    [InlineData("fm")]
    [InlineData("deepfm")]
    public void ScoringWithoutATapeEqualsTheRecordedGraph(string model)
    {
        // Scoring takes fused paths (the FM's pairwise term in one pass, DeepFM's request MLP);
        // training records the op graph. Trained a little, so the embeddings are not at their 1e-4 start.
        var trainer = new ModelTrainer(Load(model, "train.epochs=1"), data.Dataset, Path.Combine(data.Root, "runs", model + "-tape"), TextWriter.Null);
        trainer.Run(resume: false);
        var m = trainer.Model;
        m.Eval();
        var rows = data.Dataset.Indices(Splits.Test)[..48];
        var batch = new Batch(data.Dataset, rows.Length);
        batch.Fill(data.Dataset, rows);
        float[] recorded, scored;
        using (Tape.Train()) recorded = m.Forward(batch).Logits.ToArray();
        using (Tape.Inference()) scored = m.Forward(batch).Logits.ToArray();
        Assert.Contains(recorded, x => Math.Abs(x) > 0.1f);   // a trained model, not all zeros
        for (int i = 0; i < rows.Length; i++)
            Assert.True(MathF.Abs(recorded[i] - scored[i]) < 1e-5f * Math.Max(1, MathF.Abs(recorded[i])), $"{model} row {i}: recorded {recorded[i]} vs scored {scored[i]}");
    }

    [Fact]
    public void DinFusedTrainingEndsWithTheOpByOpMetrics()
    {
        // The tiled unit (DiceUnit) sums in another order (one K = 2k product for the first layer,
        // weight gradients and batch statistics per tile): the same training to float rounding, not to the bit.
        TrainResult Run(bool fused) => new ModelTrainer(Load("din", "train.epochs=2", $"model.fused_training={(fused ? "true" : "false")}"),
            data.Dataset, Path.Combine(data.Root, "runs", "din-train-fused-" + fused), TextWriter.Null).Run(false);
        var fused = Run(true);
        var reference = Run(false);
        Assert.True(fused.Test.Auc > 0.70, $"fused training: test AUC {fused.Test.Auc:F4}");
        Assert.True(Math.Abs(fused.Test.Auc - reference.Test.Auc) < 2e-4, $"test AUC {fused.Test.Auc:F6} (fused) vs {reference.Test.Auc:F6}");
        Assert.True(Math.Abs(fused.Test.LogLoss - reference.Test.LogLoss) < 2e-4, $"test LogLoss {fused.Test.LogLoss:F6} (fused) vs {reference.Test.LogLoss:F6}");
    }

    [Fact]
    public void SameSeedGivesTheSameMetrics()
    {
        var a = new ModelTrainer(Load("deepfm", "train.epochs=1"), data.Dataset, Path.Combine(data.Root, "runs", "det-a"), TextWriter.Null).Run(false);
        var b = new ModelTrainer(Load("deepfm", "train.epochs=1"), data.Dataset, Path.Combine(data.Root, "runs", "det-b"), TextWriter.Null).Run(false);
        Assert.Equal(a.Test.Auc, b.Test.Auc);
        Assert.Equal(a.Test.LogLoss, b.Test.LogLoss);
    }

    /// <summary>A size or rate out of range fails when the model is built, naming the key (and, through
    /// <c>--set</c>, the override); a combination no layer can take fails as a configuration error too,
    /// not as an exception from deep inside a layer.</summary>
    [Theory]
    [InlineData("deepfm", "model.mlp=[64,0]", "each item of 'model.mlp' must be a positive integer, got '0'")]
    [InlineData("deepfm", "model.mlp=[2.5]", "each item of 'model.mlp' must be a positive integer, got '2.5'")]
    [InlineData("deepfm", "model.embedding_dim=0", "'model.embedding_dim' must be a positive integer, got 0")]
    [InlineData("din", "model.attention_units=[64,-1]", "each item of 'model.attention_units' must be a positive integer, got '-1'")]
    [InlineData("din", "model.dropout=1", "'model.dropout' must be in [0, 1), got 1")]
    [InlineData("din", "model.attention_units=[]", "'model.attention_units' must list at least 1 integer, got an empty list")]
    [InlineData("xdeepfm", "model.cin=[]", "'model.cin' must list at least 1 integer, got an empty list")]
    [InlineData("deepfm", "model.embedding_dim=2000000000", "model 'deepfm' cannot be built from this configuration: tensor of shape")]
    public void OutOfRangeModelSettingsAreConfigurationErrors(string model, string setting, string expected)
    {
        var exp = Load(model, setting);
        var e = Assert.Throws<SharpCtr.Data.Config.ConfigException>(() => ModelRegistry.Create(new ModelContext(data.Dataset, exp.Model, new Rng(1))));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("train.learning_rate=-0.1", "'train.learning_rate' must be ≥ 0, got -0.1")]
    [InlineData("train.patience=-1", "'train.patience' must be a non-negative integer, got -1")]
    [InlineData("train.lr_decay_epochs=[3,0]", "each item of 'train.lr_decay_epochs' must be a positive integer, got '0'")]
    public void OutOfRangeTrainingSettingsAreConfigurationErrors(string setting, string expected)
    {
        var e = Assert.Throws<SharpCtr.Data.Config.ConfigException>(() => Load("lr", setting));
        Assert.Contains("--set " + setting, e.Message);
        Assert.Contains(expected, e.Message);
    }
}

public sealed class PlantedDataFixture : IDisposable
{
    public PlantedData Data { get; } = new();
    public void Dispose() => Data.Dispose();
}
