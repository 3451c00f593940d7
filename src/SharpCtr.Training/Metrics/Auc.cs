namespace SharpCtr.Training.Metrics;

/// <summary>
/// Area under the ROC curve, exact and tie-aware: a positive and a negative with equal scores
/// count one half, which is the same as the Mann–Whitney statistic with average ranks.
/// Scores may be probabilities or logits (only their order matters). O(n log n): one sort.
/// With only one class present the AUC is undefined and the result is <see cref="double.NaN"/>.
/// </summary>
public static class Auc
{
    public static double Compute(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels)
    {
        MetricInput.CheckLengths("AUC", scores.Length, labels.Length);
        var keys = new float[scores.Length];
        var lab = new byte[scores.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = MetricInput.Score("AUC", scores[i], i);
            lab[i] = MetricInput.Label("AUC", labels[i], i);
        }
        return SortedAuc(keys, lab);
    }

    public static double Compute(ReadOnlySpan<float> scores, ReadOnlySpan<byte> labels)
    {
        MetricInput.CheckLengths("AUC", scores.Length, labels.Length);
        var keys = new float[scores.Length];
        var lab = new byte[scores.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = MetricInput.Score("AUC", scores[i], i);
            lab[i] = MetricInput.Label("AUC", labels[i], i);
        }
        return SortedAuc(keys, lab);
    }

    static double SortedAuc(float[] keys, byte[] labels)
    {
        Array.Sort(keys, labels);
        return AucOfSortedRun(keys, labels, 0, keys.Length, out _);
    }

    /// <summary>
    /// AUC of rows [start, end) already sorted by ascending score. Walks tie blocks: every
    /// positive in a block beats all negatives below it and half-beats the negatives beside it.
    /// Counts are exact in double up to 2^53, far beyond any test set.
    /// </summary>
    internal static double AucOfSortedRun(ReadOnlySpan<float> sortedScores, ReadOnlySpan<byte> labels, int start, int end, out long positives)
    {
        double wins = 0;
        long negBelow = 0, pos = 0;
        int i = start;
        while (i < end)
        {
            float s = sortedScores[i];
            long blockPos = 0, blockNeg = 0;
            do
            {
                if (labels[i] != 0) blockPos++; else blockNeg++;
                i++;
            } while (i < end && sortedScores[i] == s);
            wins += blockPos * (negBelow + 0.5 * blockNeg);
            negBelow += blockNeg;
            pos += blockPos;
        }
        positives = pos;
        long neg = negBelow;
        if (pos == 0 || neg == 0) return double.NaN;
        return wins / ((double)pos * neg);
    }
}
