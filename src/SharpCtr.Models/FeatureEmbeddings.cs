using SharpCtr.Data.Batching;
using SharpCtr.Data.Encoded;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models;

/// <summary>
/// Embeds a batch's raw fields: one table per vocabulary source, so fields drawing ids from the
/// same source share it (item_id with the history's items; the genre field with the history's
/// genres). Categorical fields look up one row, multi-valued fields average their rows (padding
/// never dilutes the mean), dense fields go through a linear projection.
/// </summary>
public sealed class FeatureEmbeddings : Module
{
    public readonly int Dim;
    readonly EncodedDataset schema;
    readonly SortedDictionary<string, Embedding> tables = new(StringComparer.Ordinal);
    readonly SortedDictionary<string, Linear> dense = new(StringComparer.Ordinal);
    readonly int[] sideWidths;          // ids per history position of each side field (1, or several for a multi-valued side)
    readonly bool singleIdSides;

    public FeatureEmbeddings(EncodedDataset schema, int dim, Rng rng, float initStd = 1e-4f)
    {
        this.schema = schema;
        Dim = dim;
        foreach (var f in schema.Fields)
        {
            if (f.Kind == "dense") dense[f.Name] = new Linear(f.Width, dim, rng, bias: false);
            else AddTable(f.Source, f.VocabSize, rng, initStd);
        }
        sideWidths = schema.Sequence?.Sides.Select(side => side.Width).ToArray() ?? [];
        singleIdSides = sideWidths.All(w => w == 1);
        if (schema.Sequence is { } s)
        {
            AddTable(s.Source, s.VocabSize, rng, initStd);
            foreach (var side in s.Sides) AddTable(side.Source, side.VocabSize, rng, initStd);
        }
    }

    void AddTable(string source, int vocab, Rng rng, float std)
    {
        if (tables.TryGetValue(source, out var t))
        {
            if (t.Vocab != vocab) throw new InvalidOperationException($"vocabulary '{source}' has sizes {t.Vocab} and {vocab} in different fields");
            return;
        }
        tables[source] = new Embedding(vocab, Dim, rng, paddingIdx: 0, std: std, sparse: true);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        foreach (var (source, t) in tables) yield return ("table." + source, t);
        foreach (var (name, l) in dense) yield return ("dense." + name, l);
    }

    /// <summary>Whether field <paramref name="name"/> describes the user (<see cref="EncodedField.IsUserLevel"/>).</summary>
    public bool IsUserField(string name) =>
        (schema.Fields.FirstOrDefault(f => f.Name == name) ?? throw new KeyNotFoundException($"data set '{schema.Name}' has no field '{name}'")).IsUserLevel;

    /// <summary>
    /// The columns holding user fields in a concatenation of <paramref name="fields"/>' embeddings
    /// ([B, Dim] each) that starts at column <paramref name="offset"/> of a model's MLP input: the
    /// same in every row of a ranking request (<see cref="Mlp.Forward(Tensor, int[])"/>).
    /// </summary>
    public IEnumerable<int> UserColumns(IReadOnlyList<string> fields, int offset = 0) =>
        Enumerable.Range(0, fields.Count).Where(i => IsUserField(fields[i])).SelectMany(i => Enumerable.Range(offset + i * Dim, Dim));

    /// <summary>Names of the non-sequence fields, in schema order.</summary>
    public IEnumerable<string> FieldNames => schema.Fields.Select(f => f.Name);

    public Embedding Table(string source) =>
        tables.TryGetValue(source, out var t) ? t : throw new KeyNotFoundException($"no embedding table for vocabulary '{source}' (have: {string.Join(", ", tables.Keys)})");

    /// <summary>One field of the batch as [B, Dim].</summary>
    public Tensor Field(Batch b, string name)
    {
        var f = schema.Field(name);
        switch (f.Kind)
        {
            case "categorical":
                return Table(f.Source).Forward(b.Ids(name), b.Count);
            case "multi":
                var m = b.MultiField(name);
                return Ops.EmbeddingBag(Table(f.Source).Weight, m.Ids, b.Count, m.Width, m.Lengths, mean: true);
            default:
                var dv = b.Dense(name);
                return dense[name].Forward(Tensor.FromArray(dv.Values, b.Count, dv.Dim));
        }
    }

    /// <summary>The first id of a multi-valued field as [B, Dim] (e.g. a target's first genre, matching the history's side field).</summary>
    public Tensor FirstOf(Batch b, string name)
    {
        var f = schema.Field(name);
        if (f.Kind != "multi") return Field(b, name);
        var m = b.MultiField(name);
        var ids = new int[b.Count];
        for (int r = 0; r < b.Count; r++) ids[r] = m.Lengths[r] > 0 ? m.Ids[r * m.Width] : 0;
        return Table(f.Source).Forward(ids, b.Count);
    }

    /// <summary>Fields stacked as [B, F, Dim].</summary>
    public Tensor Stack(Batch b, IReadOnlyList<string> names) =>
        Ops.Reshape(Ops.Concat(names.Select(n => Field(b, n)).ToArray(), 1), b.Count, names.Count, Dim);

    /// <summary>A batch's histories packed without padding; see <see cref="PackedSequence"/>.</summary>
    /// <param name="Keys">[U, Dim·(1 + sides)]: the real positions of each distinct history, once.</param>
    /// <param name="RowKey">[N]: for every (sample, position) row, its row in <paramref name="Keys"/>.</param>
    /// <param name="RowSample">[N]: the sample of every row.</param>
    /// <param name="Offsets">[B+1]: sample b owns rows Offsets[b]..Offsets[b+1].</param>
    /// <param name="Shared">Whether some samples share a history (then U &lt; N and RowKey is not the identity).</param>
    public sealed record Packed(Tensor Keys, int[] RowKey, int[] RowSample, int[] Offsets, bool Shared);

    /// <summary>
    /// The behaviour sequence without padding. Consecutive samples with the same history (the
    /// candidates of one ranking request) share one packed copy, so history lookups and any
    /// history-only projection run once per request rather than once per candidate. Row counts
    /// are rounded up to a size class (≤ 1/16 extra rows: zero keys, sample 0) so the buffer pool
    /// sees a few recurring shapes instead of a new one every batch.
    /// </summary>
    public Packed PackedSequence(Batch b)
    {
        var s = schema.Sequence ?? throw new InvalidOperationException($"data set '{schema.Name}' has no behaviour sequence");
        var sv = b.Sequence(s.Name);
        var sides = s.Sides.Select(side => sv.Side(side.Name)).ToArray();
        var offsets = new int[b.Count + 1];
        var keyStart = new int[b.Count];        // where each sample's history starts among the unique keys
        int unique = 0;
        for (int r = 0; r < b.Count; r++)
        {
            int len = Math.Min(sv.Lengths[r], sv.MaxLen);
            offsets[r + 1] = offsets[r] + len;
            if (r > 0 && SameHistory(sv, sides, sideWidths, r - 1, r)) keyStart[r] = keyStart[r - 1];
            else { keyStart[r] = unique; unique += len; }
        }
        int n = SizeClass(offsets[^1]), u = SizeClass(unique);
        bool shared = unique < offsets[^1];
        var rowSample = new int[n];
        var rowKey = new int[n];
        var ids = new int[u];
        var sideIds = sideWidths.Select(w => new int[u * w]).ToArray();
        for (int r = 0; r < b.Count; r++)
        {
            int len = offsets[r + 1] - offsets[r];
            for (int l = 0; l < len; l++)
            {
                rowSample[offsets[r] + l] = r;
                rowKey[offsets[r] + l] = keyStart[r] + l;
                ids[keyStart[r] + l] = sv.Items[r * sv.MaxLen + l];
            }
            for (int si = 0; si < sides.Length; si++)
                Array.Copy(sides[si], r * sv.MaxLen * sideWidths[si], sideIds[si], keyStart[r] * sideWidths[si], len * sideWidths[si]);
        }
        if (!shared) for (int k = offsets[^1]; k < n; k++) rowKey[k] = k;   // padding rows map to themselves (zero keys)
        Tensor keys;
        if (s.Sides.Count == 0) keys = Table(s.Source).Forward(ids, u);
        else if (singleIdSides)
        {
            // Item and side rows gathered straight into one [U, Dim·(1 + sides)] block (no per-table outputs to concatenate).
            var weights = new Tensor[1 + sideIds.Length];
            var idLists = new int[1 + sideIds.Length][];
            weights[0] = Table(s.Source).Weight; idLists[0] = ids;
            for (int si = 0; si < sideIds.Length; si++) { weights[si + 1] = Table(s.Sides[si].Source).Weight; idLists[si + 1] = sideIds[si]; }
            keys = Ops.EmbeddingConcat(weights, idLists, u, paddingIdx: 0);
        }
        else
        {
            // A multi-valued side (all of an item's genres) is the mean of its rows at each position.
            var parts = new Tensor[1 + sideIds.Length];
            parts[0] = Table(s.Source).Forward(ids, u);
            for (int si = 0; si < sideIds.Length; si++) parts[si + 1] = SideRows(s.Sides[si].Source, sideIds[si], u, sideWidths[si]);
            keys = Ops.Concat(parts, 1);
        }
        return new Packed(keys, rowKey, rowSample, offsets, shared);
    }

    /// <summary>[rows, Dim]: a history side at each of <paramref name="rows"/> positions — its id's row, or for a
    /// multi-valued side (<paramref name="width"/> ids per position, right-padded) the mean of its ids' rows.</summary>
    public Tensor SideRows(string source, int[] ids, int rows, int width)
    {
        var table = Table(source);
        return width == 1 ? table.Forward(ids, rows) : Ops.EmbeddingBag(table.Weight, ids, rows, width, LeadingIds(ids, rows, width), mean: true);
    }

    /// <summary>How many ids each of <paramref name="rows"/> right-padded lists of <paramref name="width"/> holds before its first padding id.</summary>
    static int[] LeadingIds(int[] ids, int rows, int width)
    {
        var lengths = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            int l = 0;
            while (l < width && ids[r * width + l] != 0) l++;
            lengths[r] = l;
        }
        return lengths;
    }

    static bool SameHistory(SequenceValues sv, int[][] sides, int[] widths, int a, int c)
    {
        if (sv.Lengths[a] != sv.Lengths[c]) return false;
        int len = Math.Min(sv.Lengths[a], sv.MaxLen);
        if (!sv.Items.AsSpan(a * sv.MaxLen, len).SequenceEqual(sv.Items.AsSpan(c * sv.MaxLen, len))) return false;
        for (int si = 0; si < sides.Length; si++)
        {
            int w = widths[si];
            if (!sides[si].AsSpan(a * sv.MaxLen * w, len * w).SequenceEqual(sides[si].AsSpan(c * sv.MaxLen * w, len * w))) return false;
        }
        return true;
    }

    /// <summary>
    /// n rounded up to one of a few recurring sizes (at most 1/2^<paramref name="fractionBits"/>
    /// extra), so pooled buffers are reused across batches; coarser classes mean fewer shapes.
    /// </summary>
    public static int SizeClass(int n, int fractionBits = 4)
    {
        if (n <= 16) return Math.Max(n, 1);
        int step = 1 << (31 - int.LeadingZeroCount(n) - fractionBits);
        return (n + step - 1) / step * step;
    }

    public bool HasSequence => schema.Sequence is not null;
    public int SequenceSideCount => schema.Sequence?.Sides.Count ?? 0;

    /// <summary>
    /// The history's items and each side field mean-pooled (padding excluded), each [B, Dim]. A
    /// multi-valued side pools every id of every position (a history's genres, each occurrence once).
    /// </summary>
    public List<Tensor> PooledSequence(Batch b)
    {
        var s = schema.Sequence ?? throw new InvalidOperationException($"data set '{schema.Name}' has no behaviour sequence");
        var sv = b.Sequence(s.Name);
        var sides = s.Sides.Select(side => sv.Side(side.Name)).ToArray();
        // The candidates of one request share a history: pool each run of identical consecutive
        // histories once and copy the result to its rows (100× less lookup work per request).
        var group = new int[b.Count];
        int unique = 0;
        for (int r = 0; r < b.Count; r++)
            group[r] = r > 0 && SameHistory(sv, sides, sideWidths, r - 1, r) ? group[r - 1] : unique++;
        bool shared = unique < b.Count;
        int[] items = sv.Items, lengths = sv.Lengths;
        var sideIds = sides;
        if (shared)
        {
            items = new int[unique * sv.MaxLen];
            lengths = new int[unique];
            sideIds = sideWidths.Select(w => new int[unique * sv.MaxLen * w]).ToArray();
            for (int r = 0; r < b.Count; r++)
            {
                if (r > 0 && group[r] == group[r - 1]) continue;
                int g = group[r];
                lengths[g] = sv.Lengths[r];
                Array.Copy(sv.Items, r * sv.MaxLen, items, g * sv.MaxLen, sv.MaxLen);
                for (int si = 0; si < sides.Length; si++)
                    Array.Copy(sides[si], r * sv.MaxLen * sideWidths[si], sideIds[si], g * sv.MaxLen * sideWidths[si], sv.MaxLen * sideWidths[si]);
            }
        }
        Tensor Pool(Embedding table, int[] ids, int width, int[] bagLengths)
        {
            var bag = Ops.EmbeddingBag(table.Weight, ids, unique, width, bagLengths, mean: true);
            return shared ? Ops.IndexSelect(bag, group) : bag;
        }
        var list = new List<Tensor> { Pool(Table(s.Source), items, sv.MaxLen, lengths) };
        for (int si = 0; si < sides.Length; si++)
        {
            if (sideWidths[si] == 1) { list.Add(Pool(Table(s.Sides[si].Source), sideIds[si], sv.MaxLen, lengths)); continue; }
            // Each history's ids packed to the front of one bag of MaxLen·width (positions' padding ids dropped).
            int bagWidth = sv.MaxLen * sideWidths[si];
            var packed = new int[unique * bagWidth];
            var count = new int[unique];
            for (int g = 0; g < unique; g++)
            {
                int used = Math.Min(lengths[g], sv.MaxLen) * sideWidths[si];
                for (int k = 0; k < used; k++)
                    if (sideIds[si][g * bagWidth + k] is var id and not 0) packed[g * bagWidth + count[g]++] = id;
            }
            list.Add(Pool(Table(s.Sides[si].Source), packed, bagWidth, count));
        }
        return list;
    }

    /// <summary>Whether history side <paramref name="index"/> holds several ids per position (e.g. all of an item's genres).</summary>
    public bool SequenceSideIsMulti(int index) => sideWidths[index] > 1;

    /// <summary>Width of a history key: the item embedding and each side field's.</summary>
    public int SequenceWidth() => Dim * (1 + SequenceSideCount);
}
