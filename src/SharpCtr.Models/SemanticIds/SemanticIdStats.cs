using System.Globalization;
using System.Text;

namespace SharpCtr.Models.SemanticIds;

/// <summary>
/// How a set of semantic IDs uses its codebooks. The last digit is taken as the collision digit
/// when <c>hasCollisionDigit</c>; the others are semantic levels.
/// </summary>
/// <param name="CodesUsed">distinct codes per semantic level.</param>
/// <param name="Perplexity">per level exp(entropy of the code distribution): the number of equally used codes it is worth.</param>
/// <param name="CollisionRate">share of items whose semantic codes (all levels) are shared with another item.</param>
/// <param name="MaxCollisionDigit">largest collision digit (−1 without one).</param>
/// <param name="UniqueIds">whether the full IDs (collision digit included) are all distinct.</param>
public sealed record SemanticIdStats(int Items, int Levels, int[] CodesUsed, double[] Perplexity, int DistinctPrefixes,
    double CollisionRate, int MaxCollisionDigit, bool UniqueIds)
{
    public static SemanticIdStats Of(IReadOnlyDictionary<string, int[]> ids, bool hasCollisionDigit = true)
    {
        int width = -1;
        foreach (var (key, codes) in ids)
        {
            if (width < 0) width = codes.Length;
            if (codes.Length != width) throw new ArgumentException($"item '{key}' has {codes.Length} codes, others {width}");
        }
        int levels = hasCollisionDigit ? width - 1 : width;
        if (levels < 1) throw new ArgumentException("semantic IDs need at least one semantic level");
        var counts = new Dictionary<int, int>[levels];
        for (int l = 0; l < levels; l++) counts[l] = new();
        var prefixes = new Dictionary<string, int>(StringComparer.Ordinal);
        var full = new HashSet<string>(StringComparer.Ordinal);
        int maxDigit = -1;
        foreach (var codes in ids.Values)
        {
            for (int l = 0; l < levels; l++) counts[l][codes[l]] = counts[l].GetValueOrDefault(codes[l]) + 1;
            var prefix = string.Join(",", codes.Take(levels));
            prefixes[prefix] = prefixes.GetValueOrDefault(prefix) + 1;
            full.Add(string.Join(",", codes));
            if (hasCollisionDigit) maxDigit = Math.Max(maxDigit, codes[^1]);
        }
        int n = ids.Count, shared = 0;
        foreach (var c in prefixes.Values) if (c > 1) shared += c;
        var perplexity = new double[levels];
        for (int l = 0; l < levels; l++)
        {
            double h = 0;
            foreach (var c in counts[l].Values) { double p = (double)c / n; h -= p * Math.Log(p); }
            perplexity[l] = Math.Exp(h);
        }
        return new SemanticIdStats(n, levels, counts.Select(c => c.Count).ToArray(), perplexity, prefixes.Count,
            n == 0 ? 0 : (double)shared / n, maxDigit, full.Count == n);
    }

    public string ToText(string title, int codebookSize = 256)
    {
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        sb.AppendLine(ci, $"{title}: {Items:N0} items, {Levels} semantic levels{(MaxCollisionDigit >= 0 ? " + collision digit" : "")}");
        for (int l = 0; l < Levels; l++)
            sb.AppendLine(ci, $"  level {l + 1}: {CodesUsed[l]}/{codebookSize} codes used, perplexity {Perplexity[l]:F1}");
        sb.AppendLine(ci, $"  distinct code prefixes {DistinctPrefixes:N0}; collision rate {CollisionRate:P2} of items share theirs; max collision digit {MaxCollisionDigit}; IDs unique: {(UniqueIds ? "yes" : "NO")}");
        return sb.ToString();
    }
}
