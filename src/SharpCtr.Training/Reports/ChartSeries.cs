namespace SharpCtr.Training.Reports;

/// <summary>One named series of a chart: Y[i] is plotted at X[i].</summary>
public sealed record ChartSeries(string Name, double[] X, double[] Y)
{
    internal void Check()
    {
        if (X.Length != Y.Length)
            throw new ArgumentException($"Series '{Name}': {X.Length} x values but {Y.Length} y values.");
        for (int i = 0; i < X.Length; i++)
            if (!double.IsFinite(X[i]) || !double.IsFinite(Y[i]))
                throw new ArgumentException($"Series '{Name}': point {i} ({X[i]}, {Y[i]}) is not finite.");
    }
}
