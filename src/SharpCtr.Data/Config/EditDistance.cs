namespace SharpCtr.Data.Config;

/// <summary>Levenshtein distance, used to suggest the valid key closest to a misspelt one.</summary>
public static class EditDistance
{
    public static int Between(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitute = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                cur[j] = Math.Min(substitute, Math.Min(prev[j] + 1, cur[j - 1] + 1));
            }
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    /// <summary>The closest candidate, or null when none is close enough to be a plausible typo.</summary>
    public static string? Closest(string key, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            int d = Between(key.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDistance) { bestDistance = d; best = c; }
        }
        // A suggestion further away than about half the key is noise, not help.
        return best != null && bestDistance <= Math.Max(2, key.Length / 2) ? best : null;
    }
}
