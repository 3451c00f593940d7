namespace SharpCtr.Data.Raw;

/// <summary>
/// Named attributes of users, items or rows: each value is a list of strings (one string for a
/// single-valued attribute such as gender, several for genres or query tokens). Strings are
/// interned per attribute because the same few values repeat millions of times.
/// </summary>
public sealed class AttributeTable
{
    readonly Dictionary<string, List<string[]?>> _columns = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> _intern = new(StringComparer.Ordinal);

    public IEnumerable<string> Names => _columns.Keys;
    public bool Has(string name) => _columns.ContainsKey(name);

    public void Set(int entity, string name, string[] values)
    {
        if (!_columns.TryGetValue(name, out var col)) _columns[name] = col = new();
        while (col.Count <= entity) col.Add(null);
        for (int i = 0; i < values.Length; i++) values[i] = Intern(values[i]);
        col[entity] = values;
    }

    public void Set(int entity, string name, string value) => Set(entity, name, new[] { value });

    public string[]? Get(int entity, string name) =>
        _columns.TryGetValue(name, out var col) && entity < col.Count ? col[entity] : null;

    string Intern(string s)
    {
        if (_intern.TryGetValue(s, out var v)) return v;
        _intern[s] = s;
        return s;
    }
}
