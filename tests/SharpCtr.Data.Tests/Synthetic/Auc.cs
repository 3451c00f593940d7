namespace SharpCtr.Data.Tests.Synthetic;

/// <summary>Exact tie-aware ROC AUC: Mann–Whitney U with average ranks for tied scores.</summary>
internal static class Auc
{
    public static double Compute(double[] scores, bool[] labels)
    {
        if (scores.Length != labels.Length) throw new ArgumentException("scores and labels differ in length");
        var order = new int[scores.Length];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        var keys = (double[])scores.Clone();
        Array.Sort(keys, order);

        double positiveRankSum = 0;
        long positives = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && keys[end + 1] == keys[start]) end++;
            // Ranks start..end (1-based start+1..end+1) share their average.
            var rank = (start + end) / 2.0 + 1.0;
            for (var i = start; i <= end; i++)
                if (labels[order[i]]) { positiveRankSum += rank; positives++; }
            start = end + 1;
        }
        long negatives = scores.Length - positives;
        if (positives == 0 || negatives == 0) throw new ArgumentException("AUC needs both positives and negatives");
        return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }
}
