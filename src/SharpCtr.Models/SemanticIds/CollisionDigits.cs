namespace SharpCtr.Models.SemanticIds;

/// <summary>
/// The extra ID digit that makes semantic IDs unique: items sharing all semantic codes are
/// numbered start, start+1, … in order of how well the codes represent them (smallest latent
/// error first), ties by item key (ordinal), so the numbering is deterministic.
/// </summary>
public static class CollisionDigits
{
    /// <param name="codes">[n × levels] row-major.</param>
    public static int[] Assign(int[] codes, int levels, IReadOnlyList<string> keys, float[] latentError, int start = 0)
    {
        int n = keys.Count;
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Array.Sort(order, (a, b) =>
        {
            for (int l = 0; l < levels; l++)
            {
                int c = codes[a * levels + l].CompareTo(codes[b * levels + l]);
                if (c != 0) return c;
            }
            int e = latentError[a].CompareTo(latentError[b]);
            return e != 0 ? e : string.CompareOrdinal(keys[a], keys[b]);
        });
        var digit = new int[n];
        for (int k = 0; k < n; k++)
        {
            int i = order[k];
            bool sameAsPrevious = k > 0 && codes.AsSpan(i * levels, levels).SequenceEqual(codes.AsSpan(order[k - 1] * levels, levels));
            digit[i] = sameAsPrevious ? digit[order[k - 1]] + 1 : start;
        }
        return digit;
    }
}
