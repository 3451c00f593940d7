namespace SharpCtr.Data.Raw;

/// <summary>Raw string keys (user ids, item ids) mapped to dense indices in order of first sight.</summary>
public sealed class KeyTable
{
    readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanLookup;
    public List<string> Keys { get; } = new();

    public KeyTable() => _spanLookup = _index.GetAlternateLookup<ReadOnlySpan<char>>();

    public int Count => Keys.Count;

    public int GetOrAdd(string key)
    {
        if (_index.TryGetValue(key, out var i)) return i;
        i = Keys.Count;
        _index.Add(key, i);
        Keys.Add(key);
        return i;
    }

    /// <summary>Looks a key up from a slice of a line without allocating when it is known.</summary>
    public int GetOrAdd(ReadOnlySpan<char> key)
    {
        if (_spanLookup.TryGetValue(key, out var i)) return i;
        return GetOrAdd(key.ToString());
    }

    public int Find(string key) => _index.TryGetValue(key, out var i) ? i : -1;
}
