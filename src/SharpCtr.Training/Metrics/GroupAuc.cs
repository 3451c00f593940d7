namespace SharpCtr.Training.Metrics;

/// <summary>
/// GAUC and UAUC: per-group AUC (tie-aware) combined over groups that hold both classes.
/// GAUC groups are requests or user-days and weight by row count; UAUC groups are users and
/// weight equally (see protocols.md). One radix sort of packed (group, score) 64-bit keys, then one
/// linear walk; nothing is allocated per group, so millions of rows take a fraction of a second.
/// </summary>
public static class GroupAuc
{
    public static GroupAucResult Compute(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, ReadOnlySpan<int> groups)
    {
        MetricInput.CheckLengths("GAUC", scores.Length, labels.Length, groups.Length);
        var labelBytes = new byte[labels.Length];
        for (int i = 0; i < labelBytes.Length; i++) labelBytes[i] = MetricInput.Label("GAUC", labels[i], i);
        return ComputeSorted(SortedKeys(scores, groups, labelBytes), labelBytes, default, default, default);
    }

    public static GroupAucResult Compute(ReadOnlySpan<float> scores, ReadOnlySpan<byte> labels, ReadOnlySpan<int> groups)
    {
        MetricInput.CheckLengths("GAUC", scores.Length, labels.Length, groups.Length);
        var labelBytes = new byte[labels.Length];
        for (int i = 0; i < labelBytes.Length; i++) labelBytes[i] = MetricInput.Label("GAUC", labels[i], i);
        return ComputeSorted(SortedKeys(scores, groups, labelBytes), labelBytes, default, default, default);
    }

    /// <summary>Row-count-weighted mean of per-group AUCs (protocols.md GAUC).</summary>
    public static double Gauc(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, ReadOnlySpan<int> groups) =>
        Compute(scores, labels, groups).Gauc;

    /// <summary>Unweighted mean of per-user AUCs (protocols.md UAUC); pass user ids as groups.</summary>
    public static double Uauc(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, ReadOnlySpan<int> userIds) =>
        Compute(scores, labels, userIds).Uauc;

    /// <summary>
    /// Every group's AUC (NaN where the group holds one class), row count and id, in ascending
    /// id order. Used by the paired bootstrap and to check against scikit-learn per group.
    /// </summary>
    public static PerGroupAucs PerGroup(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, ReadOnlySpan<int> groups)
    {
        MetricInput.CheckLengths("GAUC", scores.Length, labels.Length, groups.Length);
        var labelBytes = new byte[labels.Length];
        for (int i = 0; i < labelBytes.Length; i++) labelBytes[i] = MetricInput.Label("GAUC", labels[i], i);
        var keys = SortedKeys(scores, groups, labelBytes);
        int groupCount = 0;
        for (int i = 0; i < keys.Length; i++)
            if (i == 0 || keys[i] >> 32 != keys[i - 1] >> 32) groupCount++;
        var result = new PerGroupAucs(new int[groupCount], new double[groupCount], new int[groupCount], new int[groupCount]);
        ComputeSorted(keys, labelBytes, result.GroupIds, result.Aucs, result.Counts, result.Positives);
        return result;
    }

    static ulong[] SortedKeys(ReadOnlySpan<float> scores, ReadOnlySpan<int> groups, byte[] labels)
    {
        var keys = new ulong[scores.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            float s = MetricInput.Score("GAUC", scores[i], i);
            // Flipping the sign bit keeps signed group order in unsigned comparison.
            ulong g = (uint)(groups[i] ^ int.MinValue);
            keys[i] = g << 32 | MetricInput.OrderedBits(s);
        }
        RadixSort.Sort(keys, labels);
        return keys;
    }

    static GroupAucResult ComputeSorted(ulong[] keys, byte[] labels, Span<int> ids, Span<double> aucs, Span<int> counts, Span<int> positives = default)
    {
        bool perGroup = !aucs.IsEmpty;
        double weightedSum = 0, plainSum = 0;
        long rowsCounted = 0;
        int counted = 0, groupIndex = 0;
        int i = 0, n = keys.Length;
        while (i < n)
        {
            ulong group = keys[i] >> 32;
            double wins = 0;
            long negBelow = 0, pos = 0;
            int start = i;
            while (i < n && keys[i] >> 32 == group)
            {
                ulong key = keys[i];
                long blockPos = 0, blockNeg = 0;
                do
                {
                    if (labels[i] != 0) blockPos++; else blockNeg++;
                    i++;
                } while (i < n && keys[i] == key);
                wins += blockPos * (negBelow + 0.5 * blockNeg);
                negBelow += blockNeg;
                pos += blockPos;
            }
            int rows = i - start;
            double auc = double.NaN;
            if (pos > 0 && negBelow > 0)
            {
                auc = wins / ((double)pos * negBelow);
                weightedSum += rows * auc;
                plainSum += auc;
                rowsCounted += rows;
                counted++;
            }
            if (perGroup)
            {
                ids[groupIndex] = (int)(uint)group ^ int.MinValue;
                aucs[groupIndex] = auc;
                counts[groupIndex] = rows;
                positives[groupIndex] = (int)pos;
            }
            groupIndex++;
        }
        if (counted == 0) return new GroupAucResult(double.NaN, double.NaN, 0, groupIndex, 0);
        return new GroupAucResult(weightedSum / rowsCounted, plainSum / counted, counted, groupIndex, rowsCounted);
    }
}
