namespace SharpCtr.Models.SemanticIds;

/// <summary>
/// Whether codes mean something: per level, the share of item pairs with the same code at that
/// level (the level-only cohorts GenCI uses) that share a value of an attribute such as genre,
/// against the share over all pairs of items (chance).
/// </summary>
public sealed record AttributeCoherence(string Attribute, double[] SameCode, double AnyPair)
{
    /// <param name="valuesOf">the attribute's values of an item (null or empty: the item is left out).</param>
    /// <returns>null when the attribute has more than 64 distinct values (the pair test uses a 64-bit set).</returns>
    public static AttributeCoherence? Of(string attribute, IReadOnlyDictionary<string, int[]> ids, int levels, Func<string, string[]?> valuesOf)
    {
        var bit = new Dictionary<string, int>(StringComparer.Ordinal);
        var masks = new List<ulong>();
        var codes = new List<int[]>();
        foreach (var (key, c) in ids)
        {
            var values = valuesOf(key);
            if (values == null || values.Length == 0) continue;
            ulong m = 0;
            foreach (var v in values)
            {
                if (!bit.TryGetValue(v, out var b)) { b = bit.Count; bit[v] = b; }
                if (b >= 64) return null;
                m |= 1UL << b;
            }
            masks.Add(m);
            codes.Add(c);
        }
        int n = masks.Count;
        // chance: pairs sharing a value, counted per value set to stay linear in the number of items
        var bySet = new Dictionary<ulong, long>();
        foreach (var m in masks) bySet[m] = bySet.GetValueOrDefault(m) + 1;
        var sets = bySet.ToArray();
        double sharing = 0;
        for (int a = 0; a < sets.Length; a++)
            for (int b = a; b < sets.Length; b++)
            {
                if ((sets[a].Key & sets[b].Key) == 0) continue;
                sharing += a == b ? sets[a].Value * (sets[a].Value - 1) / 2.0 : (double)sets[a].Value * sets[b].Value;
            }
        double allPairs = n * (n - 1) / 2.0;
        var same = new double[levels];
        for (int l = 0; l < levels; l++)
        {
            var groups = new Dictionary<int, List<ulong>>();
            for (int i = 0; i < n; i++)
            {
                if (!groups.TryGetValue(codes[i][l], out var g)) groups[codes[i][l]] = g = new();
                g.Add(masks[i]);
            }
            double pairs = 0, shared = 0;
            foreach (var g in groups.Values)
                for (int a = 0; a < g.Count; a++)
                    for (int b = a + 1; b < g.Count; b++)
                    {
                        pairs++;
                        if ((g[a] & g[b]) != 0) shared++;
                    }
            same[l] = pairs == 0 ? 0 : shared / pairs;
        }
        return new AttributeCoherence(attribute, same, allPairs == 0 ? 0 : sharing / allPairs);
    }

    public override string ToString() =>
        $"  pairs with the same code sharing a {Attribute}: " + string.Join(", ", SameCode.Select((s, l) => $"level {l + 1} {s:P1}")) + $" (any two items: {AnyPair:P1})";
}
