using SharpCtr.Training.Experiments;
using SharpCtr.Training.Trainer;

namespace SharpCtr.Training.Tests.Models;

public sealed class ResumeTests(PlantedDataFixture fixture) : IClassFixture<PlantedDataFixture>
{
    readonly PlantedData data = fixture.Data;

    sealed class Killed : Exception;

    [Theory]
    [InlineData("deepfm", 0.0)]
    [InlineData("din", 0.0)]
    [InlineData("deepfm", 0.2)]   // dropout: the dropout streams are part of the checkpoint
    [InlineData("din", 0.0, 0.9)] // weight averaging: the averages and their update count are part of the checkpoint
    public void KilledMidEpochResumesToIdenticalMetrics(string model, double dropout, double emaDecay = 0)
    {
        string[] set = [$"model.name={model}", "train.epochs=3", "train.checkpoint_every_steps=4", "train.patience=5", $"model.dropout={dropout}", $"train.ema_decay={emaDecay}"];
        var straightDir = Path.Combine(data.Root, "runs", $"{model}-{dropout}-{emaDecay}-straight");
        var straight = new ModelTrainer(Experiment.Load(data.ExperimentPath, set), data.Dataset, straightDir, TextWriter.Null).Run(resume: false);

        var dir = Path.Combine(data.Root, "runs", $"{model}-{dropout}-{emaDecay}-killed");
        var first = new ModelTrainer(Experiment.Load(data.ExperimentPath, set), data.Dataset, dir, TextWriter.Null)
        {
            // epoch 2, step 10: two steps after the last checkpoint, whose work is lost as in a real kill
            AfterStep = (epoch, step) => { if (epoch == 1 && step == 10) throw new Killed(); },
        };
        Assert.Throws<Killed>(() => first.Run(resume: false));
        Assert.False(File.Exists(Path.Combine(dir, "metrics.json")));

        var resumed = new ModelTrainer(Experiment.Load(data.ExperimentPath, set), data.Dataset, dir, TextWriter.Null).Run(resume: true);
        Assert.Equal(straight.BestEpoch, resumed.BestEpoch);
        Assert.Equal(straight.Valid.Auc, resumed.Valid.Auc);
        Assert.Equal(straight.Test.Auc, resumed.Test.Auc);
        Assert.Equal(straight.Test.LogLoss, resumed.Test.LogLoss);
        Assert.Equal(straight.EpochLosses, resumed.EpochLosses);
    }

    [Fact]
    public void WeightAveragingEvaluatesTheAveragedWeights()
    {
        string[] set = ["model.name=deepfm", "train.epochs=2", "train.patience=5"];
        var plain = new ModelTrainer(Experiment.Load(data.ExperimentPath, set), data.Dataset, Path.Combine(data.Root, "runs", "ema-off"), TextWriter.Null);
        var plainResult = plain.Run(resume: false);
        var averaged = new ModelTrainer(Experiment.Load(data.ExperimentPath, [.. set, "train.ema_decay=0.95"]), data.Dataset, Path.Combine(data.Root, "runs", "ema-on"), TextWriter.Null);
        var averagedResult = averaged.Run(resume: false);
        // The same steps are taken (the average does not feed back into training) ...
        Assert.Equal(plainResult.EpochLosses, averagedResult.EpochLosses);
        // ... but validation sees other weights, and the restored best weights are the averages,
        // not the live weights the plain run restores from the same epoch.
        Assert.Equal(plainResult.BestEpoch, averagedResult.BestEpoch);
        Assert.NotEqual(plainResult.Valid.LogLoss, averagedResult.Valid.LogLoss);
        var live = plain.Model.Parameters().Select(p => p.Value.ToArray()).ToArray();
        var restored = averaged.Model.Parameters().Select(p => p.Value.ToArray()).ToArray();
        Assert.Contains(Enumerable.Range(0, live.Length), i => !live[i].SequenceEqual(restored[i]));
    }

    [Fact]
    public void BadEmaDecayNamesItsKey()
    {
        var ex = Assert.ThrowsAny<Exception>(() => Experiment.Load(data.ExperimentPath, ["train.ema_decay=1.5"]).Train);
        Assert.Contains("ema_decay", ex.Message);
        Assert.Contains("1.5", ex.Message);
    }

    [Fact]
    public void UnknownConfigKeyNamesFileLineAndSuggestion()
    {
        var bad = Path.Combine(data.Root, "typo.yaml");
        File.WriteAllText(bad, "data: {include: data.yaml}\nmodel: {name: deepfm, embeding_dim: 8}\ntrain: {epochs: 1}\n");
        var ex = Assert.ThrowsAny<Exception>(() => new ModelTrainer(Experiment.Load(bad), data.Dataset, Path.Combine(data.Root, "runs", "typo"), TextWriter.Null));
        Assert.Contains("typo.yaml:2", ex.Message);
        Assert.Contains("embedding_dim", ex.Message);

        File.WriteAllText(bad, "data: {include: data.yaml}\nmodel: {name: deepfn}\ntrain: {epochs: 1}\n");
        var ex2 = Assert.ThrowsAny<Exception>(() => new ModelTrainer(Experiment.Load(bad), data.Dataset, Path.Combine(data.Root, "runs", "typo"), TextWriter.Null));
        Assert.Contains("deepfm", ex2.Message);
    }
}
