using SharpCtr.Training.Metrics;

namespace SharpCtr.Training.Reports;

/// <summary>
/// Results of several models over seeds, and the summary every report prints: mean ± sample
/// std per metric, RelaImpr of the mean AUC against a base model, and a paired t-test p-value
/// against a reference model (pairs are the seeds both ran). Writers only format this.
/// </summary>
public sealed class ResultsTable
{
    public required IReadOnlyList<MetricColumn> Metrics { get; init; }
    public required IReadOnlyList<ModelRuns> Models { get; init; }
    /// <summary>Model RelaImpr is measured against (LR by convention); null for no RelaImpr column.</summary>
    public string? BaseModel { get; init; }
    /// <summary>Model every other is tested against; null for no p-value column.</summary>
    public string? ReferenceModel { get; init; }
    public string RelaImprMetric { get; init; } = "auc";
    public string SignificanceMetric { get; init; } = "auc";

    public static (double Mean, double Std) MeanStd(ReadOnlySpan<double> v)
    {
        if (v.Length == 0) return (double.NaN, double.NaN);
        double mean = 0;
        foreach (var x in v) mean += x;
        mean /= v.Length;
        if (v.Length == 1) return (mean, double.NaN);
        double ss = 0;
        foreach (var x in v) ss += (x - mean) * (x - mean);
        return (mean, Math.Sqrt(ss / (v.Length - 1)));
    }

    public (double Mean, double Std) Summary(ModelRuns model, string metric) => MeanStd(model.ValuesOf(metric));

    /// <summary>Index of the best model by mean for each metric column (-1 when no model has a value).</summary>
    public int[] BestModelPerMetric()
    {
        var best = new int[Metrics.Count];
        for (int m = 0; m < Metrics.Count; m++)
        {
            best[m] = -1;
            double bestMean = double.NaN;
            for (int i = 0; i < Models.Count; i++)
            {
                double mean = Summary(Models[i], Metrics[m].Key).Mean;
                if (double.IsNaN(mean)) continue;
                bool better = double.IsNaN(bestMean) || (Metrics[m].HigherIsBetter ? mean > bestMean : mean < bestMean);
                if (better) { best[m] = i; bestMean = mean; }
            }
        }
        return best;
    }

    public bool IsBest(int modelIndex, int metricIndex, int[] best)
    {
        // Equal means share the bold.
        if (best[metricIndex] < 0) return false;
        var key = Metrics[metricIndex].Key;
        return Summary(Models[modelIndex], key).Mean == Summary(Models[best[metricIndex]], key).Mean;
    }

    public ModelRuns? Find(string? model)
    {
        if (model == null) return null;
        foreach (var m in Models) if (m.Model == model) return m;
        throw new ArgumentException($"Results table: model '{model}' is not among {string.Join(", ", Models.Select(x => x.Model))}.");
    }

    /// <summary>RelaImpr (%) of the model's mean against the base model's mean; NaN without a base.</summary>
    public double RelaImprOf(ModelRuns model)
    {
        var baseRuns = Find(BaseModel);
        if (baseRuns == null) return double.NaN;
        return RelaImpr.Percent(Summary(model, RelaImprMetric).Mean, Summary(baseRuns, RelaImprMetric).Mean);
    }

    /// <summary>Paired t-test of model vs reference over the seeds both ran; null when fewer than 2 pairs or model is the reference.</summary>
    public PairedTTestResult? SignificanceOf(ModelRuns model)
    {
        var reference = Find(ReferenceModel);
        if (reference == null || ReferenceEquals(reference, model)) return null;
        var a = new List<double>();
        var b = new List<double>();
        var mv = model.ValuesOf(SignificanceMetric);
        var rv = reference.ValuesOf(SignificanceMetric);
        for (int i = 0; i < model.Seeds.Count; i++)
        {
            int j = IndexOf(reference.Seeds, model.Seeds[i]);
            if (j >= 0) { a.Add(mv[i]); b.Add(rv[j]); }
        }
        if (a.Count < 2) return null;
        return PairedTTest.Compute(a.ToArray(), b.ToArray());
    }

    static int IndexOf(IReadOnlyList<int> seeds, int seed)
    {
        for (int i = 0; i < seeds.Count; i++) if (seeds[i] == seed) return i;
        return -1;
    }
}
