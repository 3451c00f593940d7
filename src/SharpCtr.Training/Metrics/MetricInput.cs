namespace SharpCtr.Training.Metrics;

/// <summary>
/// Checks shared by every metric: equal lengths, labels that are exactly 0 or 1, finite scores.
/// A bad row is reported by index so that the caller can find it in the evaluated file.
/// </summary>
internal static class MetricInput
{
    public static void CheckLengths(string metric, int scores, int labels)
    {
        if (scores != labels)
            throw new ArgumentException($"{metric}: {scores} scores but {labels} labels; every row needs one of each.");
    }

    public static void CheckLengths(string metric, int scores, int labels, int groups)
    {
        CheckLengths(metric, scores, labels);
        if (groups != scores)
            throw new ArgumentException($"{metric}: {scores} scores but {groups} group ids; every row needs one of each.");
    }

    public static byte Label(string metric, float label, int row)
    {
        if (label == 0f) return 0;
        if (label == 1f) return 1;
        throw new ArgumentException($"{metric}: label at row {row} is {label}; labels must be 0 or 1.");
    }

    public static byte Label(string metric, byte label, int row)
    {
        if (label <= 1) return label;
        throw new ArgumentException($"{metric}: label at row {row} is {label}; labels must be 0 or 1.");
    }

    public static float Score(string metric, float score, int row)
    {
        if (!float.IsFinite(score))
            throw new ArgumentException($"{metric}: score at row {row} is {score}; scores must be finite.");
        // -0 and +0 are the same score; make them the same sort key too.
        return score == 0f ? 0f : score;
    }

    /// <summary>
    /// Maps a finite float to an unsigned integer with the same order, so that (group, score)
    /// pairs pack into one 64-bit key and sort with a single integer comparison.
    /// </summary>
    public static uint OrderedBits(float score)
    {
        uint bits = BitConverter.SingleToUInt32Bits(score);
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }
}
