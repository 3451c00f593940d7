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
    public void KilledMidEpochResumesToIdenticalMetrics(string model, double dropout)
    {
        string[] set = [$"model.name={model}", "train.epochs=3", "train.checkpoint_every_steps=4", "train.patience=5", $"model.dropout={dropout}"];
        var straightDir = Path.Combine(data.Root, "runs", $"{model}-{dropout}-straight");
        var straight = new ModelTrainer(Experiment.Load(data.ExperimentPath, set), data.Dataset, straightDir, TextWriter.Null).Run(resume: false);

        var dir = Path.Combine(data.Root, "runs", $"{model}-{dropout}-killed");
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
