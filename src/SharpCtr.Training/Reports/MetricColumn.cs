namespace SharpCtr.Training.Reports;

/// <summary>One metric column of a results table: its key in the runs, header, direction and print precision.</summary>
public sealed record MetricColumn(string Key, string Header, bool HigherIsBetter, int Decimals = 4)
{
    public static MetricColumn Auc => new("auc", "AUC", true);
    public static MetricColumn LogLoss => new("logloss", "LogLoss", false);
    public static MetricColumn Gauc => new("gauc", "GAUC", true);
    public static MetricColumn Uauc => new("uauc", "UAUC", true);
}
