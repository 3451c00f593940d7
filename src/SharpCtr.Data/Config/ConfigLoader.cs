using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SharpCtr.Data.Config;

/// <summary>
/// Reads a YAML configuration into a <see cref="ConfigNode"/> tree, resolving includes and
/// applying `--set a.b=value` overrides, before any typed reading or validation happens.
///
/// Includes: a mapping may hold `include: base.yaml` (or a list of files); the included files
/// are merged underneath it (the including file wins, mappings merge key by key). A top-level
/// key whose value is a path ending in .yaml/.yml (e.g. `data: ../data.yaml`) is replaced by
/// that file's content, so an experiment can reference a shared data config.
/// Paths are relative to the file that names them.
/// </summary>
public static class ConfigLoader
{
    public static ConfigSection Load(string path, IEnumerable<string>? overrides = null)
    {
        var root = LoadNode(path, depth: 0);
        if (overrides != null)
            foreach (var o in overrides) ApplyOverride(root, o);
        return new ConfigSection(root, "");
    }

    public static ConfigSection LoadText(string yaml, string fileName = "<text>", IEnumerable<string>? overrides = null)
    {
        var root = Parse(yaml, fileName, Directory.GetCurrentDirectory(), 0);
        if (overrides != null)
            foreach (var o in overrides) ApplyOverride(root, o);
        return new ConfigSection(root, "");
    }

    static ConfigNode LoadNode(string path, int depth)
    {
        if (depth > 16) throw new ConfigException($"{path}: includes nested too deeply (a cycle?)");
        if (!File.Exists(path)) throw new ConfigException($"config file not found: {Path.GetFullPath(path)}");
        var text = File.ReadAllText(path);
        return Parse(text, path, Path.GetDirectoryName(Path.GetFullPath(path))!, depth);
    }

    static ConfigNode Parse(string text, string file, string baseDir, int depth)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(text)); }
        catch (YamlException e) { throw new ConfigException($"{file}:{e.Start.Line}: invalid YAML: {e.Message}"); }
        if (stream.Documents.Count == 0) return ConfigNode.NewMap(file, 1);
        var root = Convert(stream.Documents[0].RootNode, file);
        if (root.IsNull) return ConfigNode.NewMap(file, 1);
        if (!root.IsMap) throw new ConfigException($"{root.Where}: the top level of a config must be a mapping");
        ResolveIncludes(root, baseDir, depth);
        // `data: ../data.yaml` at top level: load the referenced file as that section.
        foreach (var kv in root.Map!.ToList())
        {
            var v = kv.Value;
            if (v.IsScalar && v.Scalar != null && (v.Scalar.EndsWith(".yaml", StringComparison.Ordinal) || v.Scalar.EndsWith(".yml", StringComparison.Ordinal))
                && !kv.Key.EndsWith("path", StringComparison.Ordinal))
                root.Set(kv.Key, LoadNode(Path.Combine(baseDir, v.Scalar), depth + 1));
        }
        return root;
    }

    static void ResolveIncludes(ConfigNode node, string baseDir, int depth)
    {
        if (node.IsList) { foreach (var c in node.List!) ResolveIncludes(c, baseDir, depth); return; }
        if (!node.IsMap) return;
        var include = node.Get("include");
        if (include != null)
        {
            node.Remove("include");
            var files = include.IsList ? include.List!.Select(n => n.Scalar) : new[] { include.Scalar };
            foreach (var f in files)
            {
                if (string.IsNullOrEmpty(f)) throw new ConfigException($"{include.Where}: 'include' needs a file path");
                var included = LoadNode(Path.Combine(baseDir, f), depth + 1);
                MergeUnder(node, included);
            }
        }
        foreach (var kv in node.Map!) ResolveIncludes(kv.Value, baseDir, depth);
    }

    /// <summary>Adds to `top` the keys of `bottom` it lacks; mappings present in both merge recursively.</summary>
    static void MergeUnder(ConfigNode top, ConfigNode bottom)
    {
        foreach (var kv in bottom.Map!)
        {
            var mine = top.Get(kv.Key);
            if (mine == null) top.Map!.Add(kv);
            else if (mine.IsMap && kv.Value.IsMap) MergeUnder(mine, kv.Value);
        }
    }

    static ConfigNode Convert(YamlNode node, string file, int keyLine = 0)
    {
        // a mapping's value points at its key's line: that is where a reader looks
        int line = keyLine > 0 ? keyLine : (int)node.Start.Line;
        switch (node)
        {
            case YamlMappingNode m:
                var map = ConfigNode.NewMap(file, line);
                foreach (var kv in m.Children)
                {
                    var key = ((YamlScalarNode)kv.Key).Value ?? "";
                    if (map.Get(key) != null) throw new ConfigException($"{file}:{kv.Key.Start.Line}: duplicate key '{key}'");
                    map.Map!.Add(new(key, Convert(kv.Value, file, (int)kv.Key.Start.Line)));
                }
                return map;
            case YamlSequenceNode s:
                var list = ConfigNode.NewList(file, line);
                foreach (var c in s.Children) list.List!.Add(Convert(c, file));
                return list;
            case YamlScalarNode sc:
                bool isNull = sc.Style == ScalarStyle.Plain && (sc.Value is null or "" or "~" or "null" or "Null" or "NULL");
                return ConfigNode.NewScalar(file, line, isNull ? null : sc.Value);
            default:
                throw new ConfigException($"{file}:{line}: unsupported YAML node (anchors/aliases are not supported)");
        }
    }

    /// <summary>`a.b.c=value`: the value is read as YAML, so `x=[1, 2]` or `x={k: v}` work too.</summary>
    public static void ApplyOverride(ConfigNode root, string assignment)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) throw new ConfigException($"--set {assignment}: expected key.path=value");
        var keys = assignment[..eq].Trim().Split('.');
        var valueText = assignment[(eq + 1)..];
        var where = $"--set {assignment}";
        var stream = new YamlStream();
        ConfigNode value;
        try
        {
            stream.Load(new StringReader(valueText));
            value = stream.Documents.Count == 0 ? ConfigNode.NewScalar(where, 0, null) : Convert(stream.Documents[0].RootNode, where);
        }
        catch (YamlException) { value = ConfigNode.NewScalar(where, 0, valueText); }
        value = Relabel(value, where);

        var node = root;
        for (int i = 0; i < keys.Length - 1; i++)
        {
            var child = node.Get(keys[i]);
            if (child == null || !child.IsMap)
            {
                if (child != null && !child.IsNull)
                    throw new ConfigException($"{where}: '{string.Join('.', keys[..(i + 1)])}' is not a section ({child.Where})");
                child = ConfigNode.NewMap(where, 0);
                node.Set(keys[i], child);
            }
            node = child;
        }
        node.Set(keys[^1], value);
    }

    static ConfigNode Relabel(ConfigNode n, string where)
    {
        if (n.IsScalar) return ConfigNode.NewScalar(where, 0, n.Scalar);
        if (n.IsList) { var l = ConfigNode.NewList(where, 0); foreach (var c in n.List!) l.List!.Add(Relabel(c, where)); return l; }
        var m = ConfigNode.NewMap(where, 0);
        foreach (var kv in n.Map!) m.Map!.Add(new(kv.Key, Relabel(kv.Value, where)));
        return m;
    }
}
