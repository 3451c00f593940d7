using System.Globalization;
using System.Text;

namespace SharpCtr.Data.Config;

/// <summary>
/// Typed, strict reading of one mapping of a configuration. Each Get* call names a valid key
/// and records the value it resolved (default included); <see cref="Validate"/> then reports
/// every key that no reader asked for, with the closest valid key as a suggestion, and
/// <see cref="ToYaml"/> writes back the resolved configuration.
///
/// A layer reads its own section: <c>var data = DataConfig.Read(root.Section("data"))</c>;
/// a new section (model, training) is just another static Read(ConfigSection) function.
/// </summary>
public sealed class ConfigSection
{
    readonly ConfigNode _node;
    readonly string _path;
    readonly List<string> _known = new();
    readonly List<KeyValuePair<string, object?>> _resolved = new();
    readonly List<ConfigSection> _children = new();

    internal ConfigSection(ConfigNode node, string path)
    {
        _node = node;
        _path = path;
    }

    /// <summary>Dotted path of this section, e.g. "data.split"; empty for the root.</summary>
    public string Path => _path;
    public string File => _node.File;
    public int Line => _node.Line;
    public string Where => _node.Where;
    /// <summary>Directory of the file this section came from, for resolving relative paths.</summary>
    public string BaseDirectory => System.IO.File.Exists(_node.File) ? System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_node.File))! : Directory.GetCurrentDirectory();

    public bool Has(string key) { Know(key); var n = _node.Get(key); return n != null && !n.IsNull; }

    public IEnumerable<string> Keys => _node.Map?.Select(kv => kv.Key) ?? Enumerable.Empty<string>();

    string Name(string key) => _path.Length == 0 ? key : $"{_path}.{key}";

    void Know(string key) { if (!_known.Contains(key)) _known.Add(key); }

    void Record(string key, object? value)
    {
        for (int i = 0; i < _resolved.Count; i++)
            if (_resolved[i].Key == key) { _resolved[i] = new(key, value); return; }
        _resolved.Add(new(key, value));
    }

    ConfigNode? Raw(string key)
    {
        Know(key);
        var n = _node.Get(key);
        return n == null || n.IsNull ? null : n;
    }

    ConfigNode Required(string key) =>
        Raw(key) ?? throw new ConfigException($"{_node.Where}: missing required key '{Name(key)}'");

    string ScalarOf(string key, ConfigNode n, string expected) =>
        n.IsScalar ? n.Scalar! : throw new ConfigException($"{n.Where}: '{Name(key)}' must be {expected}, got a {(n.IsMap ? "mapping" : "list")}");

    public string GetString(string key) { var v = ScalarOf(key, Required(key), "a string"); Record(key, v); return v; }

    public string GetString(string key, string @default)
    {
        var n = Raw(key);
        var v = n == null ? @default : ScalarOf(key, n, "a string");
        Record(key, v);
        return v;
    }

    public string? GetOptionalString(string key)
    {
        var n = Raw(key);
        var v = n == null ? null : ScalarOf(key, n, "a string");
        Record(key, v);
        return v;
    }

    public int GetInt(string key, int @default)
    {
        var n = Raw(key);
        int v = n == null ? @default : ParseInt(key, n);
        Record(key, v);
        return v;
    }

    public int GetInt(string key) { var v = ParseInt(key, Required(key)); Record(key, v); return v; }

    int ParseInt(string key, ConfigNode n)
    {
        var s = ScalarOf(key, n, "an integer");
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            throw new ConfigException($"{n.Where}: '{Name(key)}' must be an integer, got '{s}'");
        return v;
    }

    /// <summary>An integer in [min, max] (a size, a count): out of range is an error at the value's line.</summary>
    public int GetInt(string key, int @default, int min, int max = int.MaxValue)
    {
        var n = Raw(key);
        int v = n == null ? @default : ParseInt(key, n);
        if (v < min || v > max) throw new ConfigException($"{n?.Where ?? _node.Where}: '{Name(key)}' must be {IntRange(min, max)}, got {v}");
        Record(key, v);
        return v;
    }

    static string IntRange(int min, int max) => (min, max) switch
    {
        (1, int.MaxValue) => "a positive integer",
        (0, int.MaxValue) => "a non-negative integer",
        (_, int.MaxValue) => $"an integer ≥ {min}",
        _ => $"an integer from {min} to {max}",
    };

    public long GetLong(string key, long @default)
    {
        var n = Raw(key);
        long v = @default;
        if (n != null)
        {
            var s = ScalarOf(key, n, "an integer");
            if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v))
                throw new ConfigException($"{n.Where}: '{Name(key)}' must be an integer, got '{s}'");
        }
        Record(key, v);
        return v;
    }

    public double GetDouble(string key, double @default)
    {
        var n = Raw(key);
        double v = n == null ? @default : ParseDouble(key, n);
        Record(key, v);
        return v;
    }

    /// <summary>A number with min ≤ v &lt; below (a rate, a weight; a dropout probability: 0, 1): out of range is an error at the value's line.</summary>
    public double GetDouble(string key, double @default, double min, double below = double.PositiveInfinity)
    {
        var n = Raw(key);
        double v = n == null ? @default : ParseDouble(key, n);
        if (!(v >= min && v < below))
        {
            string range = double.IsPositiveInfinity(below) ? $"≥ {Text(min)}" : $"in [{Text(min)}, {Text(below)})";
            throw new ConfigException($"{n?.Where ?? _node.Where}: '{Name(key)}' must be {range}, got {Text(v)}");
        }
        Record(key, v);
        return v;
    }

    static string Text(double v) => v.ToString(CultureInfo.InvariantCulture);

    double ParseDouble(string key, ConfigNode n)
    {
        var s = ScalarOf(key, n, "a number");
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw new ConfigException($"{n.Where}: '{Name(key)}' must be a finite number, got '{s}'");
        return v;
    }

    public bool GetBool(string key, bool @default)
    {
        var n = Raw(key);
        bool v = @default;
        if (n != null)
        {
            var s = ScalarOf(key, n, "true or false");
            v = s.ToLowerInvariant() switch
            {
                "true" or "yes" or "on" => true,
                "false" or "no" or "off" => false,
                _ => throw new ConfigException($"{n.Where}: '{Name(key)}' must be true or false, got '{s}'"),
            };
        }
        Record(key, v);
        return v;
    }

    /// <summary>One of a fixed set of words (case-insensitive; '-' and '_' are the same).</summary>
    public string GetChoice(string key, string @default, params string[] choices)
    {
        var n = Raw(key);
        var v = @default;
        if (n != null)
        {
            var s = ScalarOf(key, n, "a string");
            var norm = s.Replace('-', '_').ToLowerInvariant();
            var match = choices.FirstOrDefault(c => c.Replace('-', '_').ToLowerInvariant() == norm);
            if (match == null)
            {
                var hint = EditDistance.Closest(s, choices);
                throw new ConfigException($"{n.Where}: '{Name(key)}' must be one of {string.Join(", ", choices)}, got '{s}'" +
                                          (hint != null ? $" (did you mean '{hint}'?)" : ""));
            }
            v = match;
        }
        Record(key, v);
        return v;
    }

    public List<string> GetStringList(string key, IReadOnlyList<string>? @default = null)
    {
        var n = Raw(key);
        List<string> v;
        if (n == null) v = @default?.ToList() ?? new();
        else if (n.IsScalar) v = new() { n.Scalar! };
        else if (n.IsList) v = n.List!.Select(c => c.IsScalar && c.Scalar != null ? c.Scalar : throw new ConfigException($"{c.Where}: items of '{Name(key)}' must be strings")).ToList();
        else throw new ConfigException($"{n.Where}: '{Name(key)}' must be a list of strings");
        Record(key, v);
        return v;
    }

    public List<double> GetDoubleList(string key, IReadOnlyList<double> @default)
    {
        var n = Raw(key);
        List<double> v;
        if (n == null) v = @default.ToList();
        else if (n.IsList) v = n.List!.Select(c => ParseDouble(key, c)).ToList();
        else throw new ConfigException($"{n.Where}: '{Name(key)}' must be a list of numbers");
        Record(key, v);
        return v;
    }

    /// <summary>A list of integers, each ≥ min (layer widths: 1); a fraction or an item out of range is an error at the item's line,
    /// a list shorter than <paramref name="minCount"/> (a module that needs at least one layer) one at the list's.</summary>
    public List<int> GetIntList(string key, IReadOnlyList<int> @default, int min, int minCount = 0)
    {
        var n = Raw(key);
        List<int> v;
        if (n == null) v = @default.ToList();
        else if (n.IsList)
            v = n.List!.Select(c =>
            {
                var s = c.IsScalar ? c.Scalar : null;
                if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) || x < min)
                    throw new ConfigException($"{c.Where}: each item of '{Name(key)}' must be {IntRange(min, int.MaxValue)}, got {(s is null ? (c.IsMap ? "a mapping" : c.IsList ? "a list" : "an empty value") : $"'{s}'")}");
                return x;
            }).ToList();
        else throw new ConfigException($"{n.Where}: '{Name(key)}' must be a list of integers");
        if (v.Count < minCount)
            throw new ConfigException($"{n?.Where ?? _node.Where}: '{Name(key)}' must list at least {minCount} {(minCount == 1 ? "integer" : "integers")}, got {(v.Count == 0 ? "an empty list" : $"{v.Count}")}");
        Record(key, v);
        return v;
    }

    /// <summary>A nested mapping; an absent key gives an empty section (all defaults).</summary>
    public ConfigSection Section(string key)
    {
        var n = Raw(key);
        if (n != null && !n.IsMap) throw new ConfigException($"{n.Where}: '{Name(key)}' must be a mapping");
        var child = new ConfigSection(n ?? ConfigNode.NewMap(_node.File, _node.Line), Name(key));
        _children.Add(child);
        Record(key, child);
        return child;
    }

    /// <summary>A list of mappings, e.g. `fields: [{name: ..., source: ...}, ...]`.</summary>
    public List<ConfigSection> SectionList(string key)
    {
        var n = Raw(key);
        var list = new List<ConfigSection>();
        if (n != null)
        {
            if (!n.IsList) throw new ConfigException($"{n.Where}: '{Name(key)}' must be a list");
            for (int i = 0; i < n.List!.Count; i++)
            {
                var c = n.List[i];
                if (!c.IsMap) throw new ConfigException($"{c.Where}: items of '{Name(key)}' must be mappings");
                var child = new ConfigSection(c, $"{Name(key)}[{i}]");
                _children.Add(child);
                list.Add(child);
            }
        }
        Record(key, list);
        return list;
    }

    /// <summary>Throws on the first key no reader asked for, naming file, line and key, with a suggestion.</summary>
    public void Validate()
    {
        if (_node.Map != null)
            foreach (var kv in _node.Map)
                if (!_known.Contains(kv.Key))
                {
                    var hint = EditDistance.Closest(kv.Key, _known);
                    var section = _path.Length == 0 ? "the top level" : $"'{_path}'";
                    throw new ConfigException($"{kv.Value.Where}: unknown key '{kv.Key}' in {section}" +
                                              (hint != null ? $" (did you mean '{hint}'?)" : $" (valid keys: {string.Join(", ", _known)})"));
                }
        foreach (var c in _children) c.Validate();
    }

    /// <summary>The configuration as resolved by the readers (defaults filled in), as YAML.</summary>
    public string ToYaml()
    {
        var sb = new StringBuilder();
        WriteMap(sb, this, 0);
        return sb.ToString();
    }

    static void WriteMap(StringBuilder sb, ConfigSection s, int indent)
    {
        foreach (var kv in s._resolved)
        {
            sb.Append(' ', indent).Append(kv.Key).Append(':');
            WriteValue(sb, kv.Value, indent);
        }
    }

    static void WriteValue(StringBuilder sb, object? value, int indent)
    {
        switch (value)
        {
            case ConfigSection child when child._resolved.Count == 0:
                sb.Append(" {}\n");
                break;
            case ConfigSection child:
                sb.Append('\n');
                WriteMap(sb, child, indent + 2);
                break;
            case List<ConfigSection> list when list.Count == 0:
                sb.Append(" []\n");
                break;
            case List<ConfigSection> list:
                sb.Append('\n');
                foreach (var item in list)
                {
                    var inner = new StringBuilder();
                    WriteMap(inner, item, indent + 4);
                    var text = inner.ToString();
                    // first key goes on the dash line
                    sb.Append(' ', indent + 2).Append("- ").Append(text.AsSpan(indent + 4));
                }
                break;
            case List<string> strings:
                sb.Append(" [").Append(string.Join(", ", strings.Select(Quote))).Append("]\n");
                break;
            case List<int> ints:
                sb.Append(" [").Append(string.Join(", ", ints.Select(i => i.ToString(CultureInfo.InvariantCulture)))).Append("]\n");
                break;
            case List<double> numbers:
                sb.Append(" [").Append(string.Join(", ", numbers.Select(d => d.ToString("R", CultureInfo.InvariantCulture)))).Append("]\n");
                break;
            case null:
                sb.Append(" null\n");
                break;
            case bool b:
                sb.Append(b ? " true\n" : " false\n");
                break;
            case double d:
                sb.Append(' ').Append(d.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
                break;
            case int or long:
                sb.Append(' ').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append('\n');
                break;
            default:
                sb.Append(' ').Append(Quote(value.ToString()!)).Append('\n');
                break;
        }
    }

    static string Quote(string s)
    {
        bool plain = s.Length > 0 && s.All(c => char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or '/' or '+')
                     && !(s is "true" or "false" or "null" or "yes" or "no" or "on" or "off" or "~")
                     && !double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
        return plain ? s : "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    }
}
