using SharpCtr.Training.Evaluation;

namespace SharpCtr.Training.Trainer;

/// <summary>What one training run measured; written as metrics.json.</summary>
public sealed record TrainResult(
    string Experiment, string Model, int Seed, int BestEpoch, int EpochsRun,
    SplitMetrics Valid, SplitMetrics Test,
    double TrainSamplesPerSecond, double InferenceSamplesPerSecond,
    RequestLatency.Result Latency, long Parameters, IReadOnlyList<double> EpochLosses);
