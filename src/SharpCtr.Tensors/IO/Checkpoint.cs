using System.Globalization;
using System.Text;
using SharpCtr.Tensors.Optim;

namespace SharpCtr.Tensors.IO;

/// <summary>
/// Training checkpoints as safetensors files: each parameter under its <see cref="Tensor.Name"/>,
/// the optimizer's buffers as <c>optim/&lt;param&gt;/&lt;buffer&gt;</c> (e.g. <c>optim/mlp.0.weight/exp_avg</c>),
/// and in the string metadata the optimizer's type, per-parameter step counts
/// (<c>optim/&lt;param&gt;/step</c>), group learning rates (<c>optim/group/&lt;i&gt;/lr</c>) and whatever the
/// caller adds (RNG state, epoch, data position). Metadata keys starting with <c>optim/</c> are
/// reserved. Files are written atomically, so a run killed mid-save keeps the previous checkpoint.
/// </summary>
public static class Checkpoint
{
    const string OptimPrefix = "optim/";

    public static void Save(string path, IReadOnlyList<Tensor> parameters, Optimizer? optimizer = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var p in parameters) tensors.Add(new(NameOf(p), p));
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        if (metadata is not null)
            foreach (var (k, v) in metadata)
            {
                if (k.StartsWith(OptimPrefix, StringComparison.Ordinal)) throw new ArgumentException($"metadata key '{k}' uses the reserved prefix '{OptimPrefix}'");
                meta[k] = v;
            }
        if (optimizer is not null)
        {
            meta[OptimPrefix + "type"] = optimizer.GetType().Name;
            for (int g = 0; g < optimizer.Groups.Count; g++)
                meta[$"{OptimPrefix}group/{g}/lr"] = optimizer.Groups[g].LearningRate.ToString("R", CultureInfo.InvariantCulture);
            foreach (var s in optimizer.States)
            {
                string name = NameOf(s.Param);
                meta[$"{OptimPrefix}{name}/step"] = s.Step.ToString(CultureInfo.InvariantCulture);
                for (int b = 0; b < s.Buffers.Length; b++) tensors.Add(new($"{OptimPrefix}{name}/{s.BufferNames[b]}", s.Buffers[b]));
            }
        }
        SafeTensors.Save(path, tensors, meta);
    }

    /// <summary>
    /// Loads parameters (and, if given, the optimizer's state) from <paramref name="path"/> in
    /// place, and returns the caller's metadata. Everything is checked before anything is
    /// changed; any missing, unexpected or mis-shaped tensor fails with one
    /// <see cref="CheckpointMismatchException"/> listing all of them. Without an optimizer, the
    /// file's optimizer entries are ignored (loading weights for evaluation).
    /// </summary>
    public static Dictionary<string, string> Load(string path, IReadOnlyList<Tensor> parameters, Optimizer? optimizer = null)
    {
        using var file = SafeTensorsFile.Open(path);
        var expected = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var p in parameters)
            if (!expected.TryAdd(NameOf(p), p)) throw new ArgumentException($"two parameters are named '{p.Name}'");
        if (optimizer is not null)
            foreach (var s in optimizer.States)
                for (int b = 0; b < s.Buffers.Length; b++) expected.Add($"{OptimPrefix}{NameOf(s.Param)}/{s.BufferNames[b]}", s.Buffers[b]);

        var problems = new List<string>();
        foreach (var (name, t) in expected.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!file.Entries.TryGetValue(name, out var e)) problems.Add($"missing tensor '{name}' (expected shape {Tensor.ShapeString(t.Shape)})");
            else if (!e.Shape.AsSpan().SequenceEqual(t.Shape)) problems.Add($"shape mismatch for '{name}': file has {Tensor.ShapeString(e.Shape)}, model has {Tensor.ShapeString(t.Shape)}");
        }
        foreach (var name in file.Entries.Keys.Order(StringComparer.Ordinal))
        {
            bool optimEntry = name.StartsWith(OptimPrefix, StringComparison.Ordinal);
            if (!expected.ContainsKey(name) && !(optimizer is null && optimEntry))
                problems.Add($"unexpected tensor '{name}' of shape {Tensor.ShapeString(file.Entries[name].Shape)}");
        }
        var steps = new int[optimizer?.States.Length ?? 0];
        if (optimizer is not null)
        {
            file.Metadata.TryGetValue(OptimPrefix + "type", out var type);
            if (type != optimizer.GetType().Name) problems.Add($"optimizer type: file has {type ?? "none"}, training uses {optimizer.GetType().Name}");
            for (int i = 0; i < steps.Length; i++)
            {
                string key = $"{OptimPrefix}{NameOf(optimizer.States[i].Param)}/step";
                if (!file.Metadata.TryGetValue(key, out var v)) problems.Add($"missing metadata '{key}'");
                else if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out steps[i])) problems.Add($"metadata '{key}' is '{v}', not a step count");
            }
        }
        if (problems.Count > 0) throw new CheckpointMismatchException(path, problems);

        foreach (var (name, t) in expected) file.ReadInto(name, t.Span);
        if (optimizer is not null)
        {
            for (int i = 0; i < steps.Length; i++) optimizer.States[i].Step = steps[i];
            for (int g = 0; g < optimizer.Groups.Count; g++)
                if (file.Metadata.TryGetValue($"{OptimPrefix}group/{g}/lr", out var lr) && float.TryParse(lr, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    optimizer.Groups[g].LearningRate = v;
        }
        var user = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in file.Metadata)
            if (!k.StartsWith(OptimPrefix, StringComparison.Ordinal)) user[k] = v;
        return user;
    }

    /// <summary>An RNG's state as a metadata string (hex words), restorable with <see cref="RestoreRng"/>.</summary>
    public static string RngState(Rng rng)
    {
        var sb = new StringBuilder();
        foreach (var w in rng.GetState()) { if (sb.Length > 0) sb.Append(':'); sb.Append(w.ToString("x16", CultureInfo.InvariantCulture)); }
        return sb.ToString();
    }

    public static void RestoreRng(Rng rng, string state)
    {
        var parts = state.Split(':');
        var words = new ulong[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!ulong.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out words[i]))
                throw new FormatException($"RNG state '{state}': word {i} ('{parts[i]}') is not hexadecimal");
        rng.SetState(words);
    }

    static string NameOf(Tensor p) =>
        string.IsNullOrEmpty(p.Name) ? throw new ArgumentException($"a parameter of shape {Tensor.ShapeString(p.Shape)} has no name; checkpoints need named parameters") : p.Name;
}
