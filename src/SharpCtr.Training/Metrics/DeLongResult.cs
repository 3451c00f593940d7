namespace SharpCtr.Training.Metrics;

/// <summary>Two correlated AUCs on the same rows, their difference A − B, its standard error, z and two-sided p.</summary>
public readonly record struct DeLongResult(double AucA, double AucB, double Difference, double StandardError, double Z, double PValue);
