using System.Globalization;
using System.Text.RegularExpressions;
using SharpCtr.Training.Experiments;
using SharpCtr.Training.Trainer;

namespace SharpCtr.Training.Tests.Models;

public sealed partial class LearningRateScheduleTests(PlantedDataFixture fixture) : IClassFixture<PlantedDataFixture>
{
    readonly PlantedData data = fixture.Data;

    [Fact]
    public void FactorsFollowTheirClosedForms()
    {
        var cosine = new TrainConfig { Schedule = "cosine", Epochs = 4 };
        Assert.Equal([1f, 0.8535534f, 0.5f, 0.14644662f], Enumerable.Range(0, 4).Select(e => ModelTrainer.LearningRateFactor(cosine, e, 0)));
        var step = new TrainConfig { Schedule = "step", DecayEpochs = [2, 3] };
        Assert.Equal([1f, 1f, 0.1f, 0.010000001f], Enumerable.Range(0, 4).Select(e => ModelTrainer.LearningRateFactor(step, e, 0)));
        var plateau = new TrainConfig { Schedule = "plateau" };
        Assert.Equal([1f, 0.1f, 0.010000001f], Enumerable.Range(0, 3).Select(r => ModelTrainer.LearningRateFactor(plateau, 5, r)));
        Assert.Equal(1f, ModelTrainer.LearningRateFactor(new TrainConfig(), 7, 3));   // constant ignores both
    }

    [Fact]
    public void CombinedMonitorIsAucMinusLogLossAndHigherIsBetter()
    {
        var m = new SharpCtr.Training.Evaluation.SplitMetrics(Auc: 0.9, LogLoss: 0.35, Gauc: 0.8, Uauc: 0.7, Rows: 10);
        Assert.Equal(0.55, m.Get("auc-logloss"), 1e-12);
        Assert.True(SharpCtr.Training.Evaluation.SplitMetrics.Better("auc-logloss", 0.56, 0.55));
        Assert.True(SharpCtr.Training.Evaluation.SplitMetrics.Better("logloss", 0.34, 0.35));
        Assert.False(SharpCtr.Training.Evaluation.SplitMetrics.Better("auc", 0.89, 0.9));
    }

    /// <summary>
    /// A run that over-fits (large learning rate, many epochs) has epochs that do not improve on
    /// validation; with lr_schedule: plateau each of them cuts the next epoch's rate by 10, and
    /// a killed-and-resumed run keeps the count of cuts.
    /// </summary>
    [Fact]
    public void PlateauCutsTheRateAfterEveryEpochThatDidNotImprove()
    {
        string[] set = ["model.name=deepfm", "train.epochs=6", "train.patience=6", "train.learning_rate=0.03",
                        "train.lr_schedule=plateau", "train.monitor=logloss", "train.checkpoint_every_steps=3"];
        var log = new StringWriter();
        var straight = new ModelTrainer(Experiment.Load(data.ExperimentPath, set), data.Dataset, Path.Combine(data.Root, "runs", "plateau"), log).Run(resume: false);
        var epochs = EpochLine().Matches(log.ToString())
            .Select(m => (Lr: double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), Best: m.Groups[2].Success)).ToList();
        Assert.Equal(6, epochs.Count);
        Assert.Equal(0.03, epochs[0].Lr, 1e-6);
        Assert.Contains(epochs.Take(5), e => !e.Best);   // the setting must produce a plateau, or the test proves nothing
        for (int e = 1; e < epochs.Count; e++)
            Assert.Equal(epochs[e - 1].Lr * (epochs[e - 1].Best ? 1 : 0.1), epochs[e].Lr, 1e-6);

        var dir = Path.Combine(data.Root, "runs", "plateau-killed");
        var first = new ModelTrainer(Experiment.Load(data.ExperimentPath, set), data.Dataset, dir, TextWriter.Null)
        {
            AfterStep = (epoch, step) => { if (epoch == 4 && step == 4) throw new OperationCanceledException(); },
        };
        Assert.Throws<OperationCanceledException>(() => first.Run(resume: false));
        var resumed = new ModelTrainer(Experiment.Load(data.ExperimentPath, set), data.Dataset, dir, TextWriter.Null).Run(resume: true);
        Assert.Equal(straight.EpochLosses, resumed.EpochLosses);
        Assert.Equal(straight.Test.LogLoss, resumed.Test.LogLoss);
    }

    [GeneratedRegex(@"^epoch \d+: .*, lr ([0-9.eE+-]+)(  \(best\))?$", RegexOptions.Multiline)]
    private static partial Regex EpochLine();
}
