namespace SharpCtr.Training.Metrics;

/// <summary>Mean of the paired differences a − b, its t statistic, degrees of freedom and two-sided p-value.</summary>
public readonly record struct PairedTTestResult(double MeanDifference, double T, int DegreesOfFreedom, double PValue);
