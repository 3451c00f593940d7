namespace SharpCtr.Training.Metrics;

/// <summary>
/// Observed difference A − B, a 95 % percentile interval from the replicates, and a two-sided
/// p-value (twice the smaller share of replicates on either side of zero, at most 1).
/// </summary>
public readonly record struct BootstrapResult(double Difference, double Lower95, double Upper95, double PValue, int Replicates, int Groups);
