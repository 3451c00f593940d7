namespace SharpCtr.Data.Schema;

/// <summary>
/// Maps the raw values of one source (e.g. "item_id", "item.genre") to embedding ids:
/// 0 is padding, 1 is out-of-vocabulary (values seen fewer than MinCount times, or never),
/// known values get 2, 3, … in order of decreasing count (ties by ordinal string order, so the
/// ids do not depend on file order). With HashBuckets > 0 every value hashes into
/// 2 … HashBuckets+1 instead, for id spaces too large to list.
/// </summary>
public sealed class Vocabulary
{
    public const int Padding = 0;
    public const int OutOfVocabulary = 1;

    readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

    public string Source { get; }
    public int MinCount { get; }
    public int HashBuckets { get; }
    /// <summary>Known values; value Tokens[k] has id k + 2. Empty when hashing.</summary>
    public IReadOnlyList<string> Tokens { get; }

    public Vocabulary(string source, IReadOnlyList<string> tokens, int minCount, int hashBuckets)
    {
        Source = source;
        MinCount = minCount;
        HashBuckets = hashBuckets;
        Tokens = tokens;
        for (int i = 0; i < tokens.Count; i++) _ids[tokens[i]] = i + 2;
    }

    /// <summary>Number of ids including padding and OOV: the embedding table's row count.</summary>
    public int Size => HashBuckets > 0 ? HashBuckets + 2 : Tokens.Count + 2;

    public int Id(string? value)
    {
        if (value == null) return OutOfVocabulary;
        if (HashBuckets > 0) return 2 + (int)(StableHash(value) % (uint)HashBuckets);
        return _ids.TryGetValue(value, out var id) ? id : OutOfVocabulary;
    }

    public string? Token(int id) => id >= 2 && id - 2 < Tokens.Count ? Tokens[id - 2] : null;

    public static Vocabulary Build(string source, Dictionary<string, int> counts, int minCount, int hashBuckets)
    {
        if (hashBuckets > 0) return new Vocabulary(source, Array.Empty<string>(), minCount, hashBuckets);
        var kept = new List<KeyValuePair<string, int>>();
        foreach (var kv in counts) if (kv.Value >= minCount) kept.Add(kv);
        kept.Sort((a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key, b.Key));
        var tokens = new string[kept.Count];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = kept[i].Key;
        return new Vocabulary(source, tokens, minCount, hashBuckets);
    }

    /// <summary>FNV-1a over the UTF-16 code units: the same on every run and machine.</summary>
    public static uint StableHash(string s)
    {
        uint h = 2166136261;
        foreach (char c in s) { h ^= c; h *= 16777619; }
        return h;
    }
}
