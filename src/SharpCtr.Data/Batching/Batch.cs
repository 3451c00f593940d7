using SharpCtr.Data.Encoded;

namespace SharpCtr.Data.Batching;

/// <summary>A multi-valued field in a batch: Count × Width ids, right-padded with 0.</summary>
public sealed class MultiValues(int count, int width)
{
    public int Width { get; } = width;
    public int[] Ids { get; } = new int[count * width];
    public int[] Lengths { get; } = new int[count];
}

/// <summary>Dense values of a batch: Count × Dim floats.</summary>
public sealed class DenseValues(int count, int dim)
{
    public int Dim { get; } = dim;
    public float[] Values { get; } = new float[count * dim];
}

/// <summary>
/// The behaviour sequence of a batch: Count × MaxLen item ids (oldest → newest, right-padded
/// with 0), side-field ids of the same shape aligned with them, and each row's length.
/// </summary>
public sealed class SequenceValues
{
    public int MaxLen { get; }
    public int[] Items { get; }
    public int[] Lengths { get; }
    public Dictionary<string, int[]> Sides { get; } = new(StringComparer.Ordinal);

    public SequenceValues(int count, int maxLen, IEnumerable<string> sides)
    {
        MaxLen = maxLen;
        Items = new int[count * maxLen];
        Lengths = new int[count];
        foreach (var s in sides) Sides[s] = new int[count * maxLen];
    }

    public int[] Side(string name) =>
        Sides.TryGetValue(name, out var a) ? a : throw new KeyNotFoundException($"sequence has no side field '{name}' (has: {string.Join(", ", Sides.Keys)})");
}

/// <summary>
/// What a model consumes: plain arrays of exactly Count rows, looked up by field name.
/// Batches are reused buffers: a batch's contents are valid until the loader moves two batches on.
/// </summary>
public sealed class Batch
{
    public int Count { get; }
    public float[] Labels { get; }
    /// <summary>Dense user index (UAUC).</summary>
    public int[] UserIndex { get; }
    /// <summary>Request or user (GAUC).</summary>
    public int[] GroupIndex { get; }
    /// <summary>Which samples of the data set these rows are.</summary>
    public int[] SampleIndex { get; }
    public Dictionary<string, int[]> Categorical { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, MultiValues> Multi { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, DenseValues> DenseFields { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, SequenceValues> Sequences { get; } = new(StringComparer.Ordinal);

    public Batch(EncodedDataset schema, int count)
    {
        Count = count;
        Labels = new float[count];
        UserIndex = new int[count];
        GroupIndex = new int[count];
        SampleIndex = new int[count];
        foreach (var f in schema.Fields)
        {
            if (f.Kind == "categorical") Categorical[f.Name] = new int[count];
            else if (f.Kind == "multi") Multi[f.Name] = new MultiValues(count, f.Width);
            else DenseFields[f.Name] = new DenseValues(count, f.Width);
        }
        if (schema.Sequence is { } s) Sequences[s.Name] = new SequenceValues(count, s.MaxLen, s.Sides.Select(x => x.Name));
    }

    public int[] Ids(string field) => Categorical.TryGetValue(field, out var a) ? a : throw Missing(field, "categorical");
    public MultiValues MultiField(string field) => Multi.TryGetValue(field, out var a) ? a : throw Missing(field, "multi-valued");
    public DenseValues Dense(string field) => DenseFields.TryGetValue(field, out var a) ? a : throw Missing(field, "dense");
    public SequenceValues Sequence(string field) => Sequences.TryGetValue(field, out var a) ? a : throw Missing(field, "sequence");

    KeyNotFoundException Missing(string field, string kind) =>
        new($"batch has no {kind} field '{field}' (categorical: {string.Join(", ", Categorical.Keys)}; multi: {string.Join(", ", Multi.Keys)}; dense: {string.Join(", ", DenseFields.Keys)}; sequence: {string.Join(", ", Sequences.Keys)})");

    /// <summary>Copies the given samples into this batch's buffers (no allocation).</summary>
    public void Fill(EncodedDataset d, ReadOnlySpan<int> samples)
    {
        if (samples.Length != Count) throw new ArgumentException($"expected {Count} samples, got {samples.Length}");
        for (int r = 0; r < Count; r++)
        {
            int i = samples[r];
            SampleIndex[r] = i;
            Labels[r] = d.Labels[i];
            UserIndex[r] = d.User[i];
            GroupIndex[r] = d.Group[i];
        }
        foreach (var f in d.Fields)
        {
            if (f.Kind == "categorical")
            {
                var dst = Categorical[f.Name];
                for (int r = 0; r < Count; r++) dst[r] = f.Ids[samples[r]];
            }
            else if (f.Kind == "multi")
            {
                var m = Multi[f.Name];
                Array.Clear(m.Ids);
                for (int r = 0; r < Count; r++)
                {
                    int a = f.Offsets[samples[r]], len = Math.Min(f.Offsets[samples[r] + 1] - a, m.Width);
                    f.Ids.AsSpan(a, len).CopyTo(m.Ids.AsSpan(r * m.Width, len));
                    m.Lengths[r] = len;
                }
            }
            else
            {
                var dv = DenseFields[f.Name];
                for (int r = 0; r < Count; r++) f.Dense.AsSpan(samples[r] * dv.Dim, dv.Dim).CopyTo(dv.Values.AsSpan(r * dv.Dim, dv.Dim));
            }
        }
        if (d.Sequence is { } s)
        {
            var sv = Sequences[s.Name];
            Array.Clear(sv.Items);
            foreach (var side in s.Sides) Array.Clear(sv.Sides[side.Name]);
            for (int r = 0; r < Count; r++)
            {
                int a = s.SampleStart[samples[r]], len = s.SampleLength[samples[r]];
                s.Items.AsSpan(a, len).CopyTo(sv.Items.AsSpan(r * sv.MaxLen, len));
                foreach (var side in s.Sides) side.Ids.AsSpan(a, len).CopyTo(sv.Sides[side.Name].AsSpan(r * sv.MaxLen, len));
                sv.Lengths[r] = len;
            }
        }
    }
}
