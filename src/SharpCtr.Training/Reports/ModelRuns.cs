namespace SharpCtr.Training.Reports;

/// <summary>
/// One model's results over several seeds: Values[metric][i] is the metric for Seeds[i].
/// Runs of different models are paired by seed for significance tests.
/// </summary>
public sealed record ModelRuns(string Model, IReadOnlyList<int> Seeds, IReadOnlyDictionary<string, double[]> Values)
{
    public double[] ValuesOf(string metric)
    {
        if (!Values.TryGetValue(metric, out var v))
            throw new KeyNotFoundException($"Model '{Model}' has no values for metric '{metric}' (it has: {string.Join(", ", Values.Keys)}).");
        if (v.Length != Seeds.Count)
            throw new ArgumentException($"Model '{Model}', metric '{metric}': {v.Length} values for {Seeds.Count} seeds.");
        return v;
    }
}
