namespace SharpCtr.Data.Config;

/// <summary>
/// One value of a configuration tree: a scalar, a mapping (keys in file order) or a list. Every
/// node remembers the file and line it came from so that errors can point at it.
/// </summary>
public sealed class ConfigNode
{
    public string File { get; }
    public int Line { get; }
    public string? Scalar { get; }
    public List<KeyValuePair<string, ConfigNode>>? Map { get; }
    public List<ConfigNode>? List { get; }

    ConfigNode(string file, int line, string? scalar, List<KeyValuePair<string, ConfigNode>>? map, List<ConfigNode>? list)
    {
        File = file; Line = line; Scalar = scalar; Map = map; List = list;
    }

    public static ConfigNode NewScalar(string file, int line, string? value) => new(file, line, value, null, null);
    public static ConfigNode NewMap(string file, int line) => new(file, line, null, new(), null);
    public static ConfigNode NewList(string file, int line) => new(file, line, null, null, new());

    public bool IsMap => Map != null;
    public bool IsList => List != null;
    public bool IsScalar => Map == null && List == null;
    /// <summary>A YAML `~`/`null` or an empty value.</summary>
    public bool IsNull => IsScalar && Scalar == null;

    public string Where => Line > 0 ? $"{File}:{Line}" : File;

    public ConfigNode? Get(string key)
    {
        if (Map == null) return null;
        foreach (var kv in Map) if (kv.Key == key) return kv.Value;
        return null;
    }

    public void Set(string key, ConfigNode value)
    {
        if (Map == null) throw new InvalidOperationException("not a mapping");
        for (int i = 0; i < Map.Count; i++)
            if (Map[i].Key == key) { Map[i] = new(key, value); return; }
        Map.Add(new(key, value));
    }

    public void Remove(string key) => Map?.RemoveAll(kv => kv.Key == key);
}
