using SharpCtr.Data.Config;
using SharpCtr.Data.Encoded;

namespace SharpCtr.Training.Evaluation;

/// <summary>Users cut into fast- and slow-changing halves, and the threshold that cut them.</summary>
/// <param name="PerUser">Each user's volatility by user index; NaN for a user with fewer than two training rows (in neither group).</param>
/// <param name="Threshold">The median volatility over users that have one: above it is fast, at or below it slow.</param>
public sealed record VolatilityGroups(double[] PerUser, double Threshold, int FastUsers, int SlowUsers)
{
    public bool IsFast(int user) => PerUser[user] > Threshold;
    public bool IsSlow(int user) => PerUser[user] <= Threshold;   // false for NaN
}

/// <summary>
/// GenCI's Table 5 split (paper, appendix A.1): how fast a user's interests change is the mean
/// Jaccard distance between the attribute sets (genres) of consecutive items they interacted
/// with. Only training rows are read — all of them, clicked or not, in their chronological
/// order — so the split uses nothing from the rows it is evaluated on. The paper does not say
/// where it cuts; the median user splits users into halves of equal size.
/// </summary>
public static class InterestVolatility
{
    /// <summary>1 − |a ∩ b| / |a ∪ b| for two sets of ids (padding id 0 ignored); 0 when both are empty.</summary>
    public static double JaccardDistance(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int shared = 0, sizeA = 0, sizeB = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] == 0 || a[..i].Contains(a[i])) continue;
            sizeA++;
            if (b.Contains(a[i])) shared++;
        }
        for (int j = 0; j < b.Length; j++)
            if (b[j] != 0 && !b[..j].Contains(b[j])) sizeB++;
        int union = sizeA + sizeB - shared;
        return union == 0 ? 0 : 1 - (double)shared / union;
    }

    /// <summary>Each user's mean Jaccard distance between consecutive training rows' values of a multi-valued field.</summary>
    public static double[] PerUser(EncodedDataset data, string field)
    {
        var f = data.Fields.FirstOrDefault(x => x.Name == field)
            ?? throw new ConfigException($"data set '{data.Name}' has no field '{field}' (fields: {string.Join(", ", data.Fields.Select(x => x.Name))})");
        int users = data.UserCount > 0 ? data.UserCount : data.User.Max() + 1;
        var sum = new double[users];
        var pairs = new int[users];
        var last = new int[users];
        Array.Fill(last, -1);
        for (int i = 0; i < data.Count; i++)
        {
            if (data.Split[i] != Splits.Train) continue;
            int u = data.User[i];
            if (last[u] >= 0) { sum[u] += JaccardDistance(Values(f, last[u]), Values(f, i)); pairs[u]++; }
            last[u] = i;
        }
        var volatility = new double[users];
        for (int u = 0; u < users; u++) volatility[u] = pairs[u] == 0 ? double.NaN : sum[u] / pairs[u];
        return volatility;
    }

    static ReadOnlySpan<int> Values(EncodedField f, int row) => f.Kind switch
    {
        "multi" => f.Ids.AsSpan(f.Offsets[row], f.Offsets[row + 1] - f.Offsets[row]),
        "categorical" => f.Ids.AsSpan(row, 1),
        _ => throw new ConfigException($"field '{f.Name}' is {f.Kind}; volatility needs a categorical or multi-valued field"),
    };

    /// <summary>Cuts users at the median volatility.</summary>
    public static VolatilityGroups Split(double[] perUser)
    {
        var known = perUser.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (known.Length == 0) throw new ArgumentException("no user has two training rows: volatility is undefined for everyone");
        double median = known.Length % 2 == 1 ? known[known.Length / 2] : (known[known.Length / 2 - 1] + known[known.Length / 2]) / 2;
        int fast = known.Count(v => v > median);
        return new VolatilityGroups(perUser, median, fast, known.Length - fast);
    }

    /// <summary>Metrics of <paramref name="scores"/> (for <paramref name="samples"/>) on the fast and the slow users' rows.</summary>
    public static (SplitMetrics Fast, SplitMetrics Slow) Evaluate(EncodedDataset data, int[] samples, float[] scores, VolatilityGroups groups)
    {
        SplitMetrics On(Func<int, bool> inGroup)
        {
            var rows = new List<int>();
            var s = new List<float>();
            for (int i = 0; i < samples.Length; i++)
                if (inGroup(data.User[samples[i]])) { rows.Add(samples[i]); s.Add(scores[i]); }
            return Evaluator.Metrics(data, rows.ToArray(), s.ToArray());
        }
        return (On(groups.IsFast), On(groups.IsSlow));
    }
}
