namespace SharpCtr.Training.Metrics;

/// <summary>
/// Area under the ROC curve, exact and tie-aware: a positive and a negative with equal scores
/// count one half, which is the same as the Mann–Whitney statistic with average ranks.
/// Scores may be probabilities or logits (only their order matters). One radix sort (O(n), within the O(n log n) the spec allows).
/// With only one class present the AUC is undefined and the result is <see cref="double.NaN"/>.
/// </summary>
public static class Auc
{
    public static double Compute(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels)
    {
        MetricInput.CheckLengths("AUC", scores.Length, labels.Length);
        var keys = new ulong[scores.Length];
        var lab = new byte[scores.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = MetricInput.OrderedBits(MetricInput.Score("AUC", scores[i], i));
            lab[i] = MetricInput.Label("AUC", labels[i], i);
        }
        return SortedAuc(keys, lab);
    }

    public static double Compute(ReadOnlySpan<float> scores, ReadOnlySpan<byte> labels)
    {
        MetricInput.CheckLengths("AUC", scores.Length, labels.Length);
        var keys = new ulong[scores.Length];
        var lab = new byte[scores.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = MetricInput.OrderedBits(MetricInput.Score("AUC", scores[i], i));
            lab[i] = MetricInput.Label("AUC", labels[i], i);
        }
        return SortedAuc(keys, lab);
    }

    static double SortedAuc(ulong[] keys, byte[] labels)
    {
        RadixSort.Sort(keys, labels);
        return AucOfSorted(keys, labels);
    }

    /// <summary>
    /// AUC of rows sorted by ascending score key. Walks tie blocks: every
    /// positive in a block beats all negatives below it and half-beats the negatives beside it.
    /// Counts are exact in double up to 2^53, far beyond any test set.
    /// </summary>
    static double AucOfSorted(ulong[] sortedKeys, byte[] labels)
    {
        double wins = 0;
        long negBelow = 0, pos = 0;
        int i = 0, end = sortedKeys.Length;
        while (i < end)
        {
            ulong s = sortedKeys[i];
            long blockPos = 0, blockNeg = 0;
            do
            {
                if (labels[i] != 0) blockPos++; else blockNeg++;
                i++;
            } while (i < end && sortedKeys[i] == s);
            wins += blockPos * (negBelow + 0.5 * blockNeg);
            negBelow += blockNeg;
            pos += blockPos;
        }
        long neg = negBelow;
        if (pos == 0 || neg == 0) return double.NaN;
        return wins / ((double)pos * neg);
    }
}
