using System.Globalization;
using SharpCtr.Data.Batching;
using SharpCtr.Data.Readers;
using SharpCtr.Data.Schema;
using SharpCtr.Serving.Bundles;

namespace SharpCtr.Serving.Scoring;

/// <summary>
/// A request → one <see cref="Batch"/> of its candidates, encoded as the training data was: each
/// field's source resolves to raw values (user_id, user.*, item_id, item.*, row.*, time.*), then
/// the bundle's vocabulary maps them to ids, unknown values to the out-of-vocabulary id. Every
/// row carries the same user fields and history, so the model's shared-history path projects the
/// history once per request.
/// Built once per bundle: sources are parsed here, and every item the bundle knows is encoded
/// ahead (<see cref="KnownItems"/>), so a candidate costs one dictionary lookup and array copies.
/// Request-level values (user, context, query, time) are encoded once per request. Only values a
/// request gives itself (candidate or history attributes) go through the vocabularies per row.
/// </summary>
public sealed class RequestEncoder
{
    enum SourceKind { UserId, UserAttribute, ItemId, ItemAttribute, RowContext, RowScene, RowQuery, RowOther, TimeHour, TimeWeekday }

    /// <param name="Key">the attribute name (gender, genre, position, context.hour …); for row sources the row attribute.</param>
    /// <param name="RequestKey">row.context.K / row.scene.K: K, the name in the request's context / scene object.</param>
    /// <param name="Known">item-level sources: the ids of every known item (all its values, in order), by <see cref="KnownItems"/> index.</param>
    sealed record Source(SourceKind Kind, string Key, string RequestKey, Vocabulary Vocabulary, int[][]? Known)
    {
        public bool IsItemLevel => Kind is SourceKind.ItemId or SourceKind.ItemAttribute;
    }

    sealed record Field(string Name, bool Multi, int Width, Source Source);

    sealed record SequencePlan(string Name, Source Items, Field[] Sides);

    static readonly string[][] SmallNumbers = Enumerable.Range(0, 24).Select(i => new[] { i.ToString(CultureInfo.InvariantCulture) }).ToArray();

    readonly ModelBundle bundle;
    readonly Field[] fields;
    readonly SequencePlan? sequence;
    readonly Dictionary<string, int> knownItems;

    /// <summary>Raw item id → index into every item-level source's <c>Known</c> ids.</summary>
    public IReadOnlyDictionary<string, int> KnownItems => knownItems;

    public RequestEncoder(ModelBundle bundle)
    {
        this.bundle = bundle;
        var schema = bundle.Schema;
        // known items: the item table's keys, then the item vocabulary's tokens (items without attributes)
        knownItems = new Dictionary<string, int>(StringComparer.Ordinal);
        var keys = new List<string>();
        foreach (var k in bundle.Items.Entities.Keys) { knownItems[k] = keys.Count; keys.Add(k); }
        var itemSource = schema.Sequence?.Source ?? "item_id";
        if (bundle.TryVocabulary(itemSource, out var itemVocab))
            foreach (var k in itemVocab.Tokens)
                if (knownItems.TryAdd(k, keys.Count)) keys.Add(k);

        var sources = new Dictionary<string, Source>(StringComparer.Ordinal);
        Source SourceOf(string name) => sources.TryGetValue(name, out var s) ? s : sources[name] = Parse(name, bundle.Vocabulary(name), keys);
        fields = schema.Fields.Select(f => new Field(f.Name, f.Kind == "multi", f.Kind == "multi" ? f.Width : 1, SourceOf(f.Source))).ToArray();
        if (schema.Sequence is { } seq)
        {
            sequence = new SequencePlan(seq.Name, SourceOf(seq.Source), seq.Sides.Select(x => new Field(x.Name, x.Width > 1, x.Width, SourceOf(x.Source))).ToArray());
            foreach (var side in sequence.Sides.Prepend(new Field(seq.Name, false, 1, sequence.Items)))
                if (!side.Source.IsItemLevel) throw new BundleException($"{bundle.Directory}: sequence '{seq.Name}': '{side.Name}' reads {side.Source.Kind}, not the history item; only item_id / item.* can be served");
        }
    }

    Source Parse(string source, Vocabulary vocab, List<string> keys)
    {
        Source Item(SourceKind kind, string key)
        {
            var known = new int[keys.Count][];
            for (int i = 0; i < keys.Count; i++)
            {
                var values = kind == SourceKind.ItemId ? [keys[i]] : bundle.Items.Of(keys[i]).TryGetValue(key, out var v) ? v : [];
                known[i] = new int[values.Length];
                for (int j = 0; j < values.Length; j++) known[i][j] = vocab.Id(values[j]);
            }
            return new Source(kind, key, key, vocab, known);
        }
        switch (source)
        {
            case "user_id": return new Source(SourceKind.UserId, source, source, vocab, null);
            case "item_id": return Item(SourceKind.ItemId, source);
            case "time.hour": return new Source(SourceKind.TimeHour, source, source, vocab, null);
            case "time.weekday": return new Source(SourceKind.TimeWeekday, source, source, vocab, null);
        }
        if (source.StartsWith("user.", StringComparison.Ordinal)) return new Source(SourceKind.UserAttribute, source[5..], source[5..], vocab, null);
        if (source.StartsWith("item.", StringComparison.Ordinal)) return Item(SourceKind.ItemAttribute, source[5..]);
        if (!source.StartsWith("row.", StringComparison.Ordinal)) throw new BundleException($"{bundle.Directory}: source '{source}' cannot be resolved from a request");
        var attr = source[4..];
        if (attr.StartsWith("context.", StringComparison.Ordinal)) return new Source(SourceKind.RowContext, attr, attr[8..], vocab, null);
        if (attr.StartsWith("scene.", StringComparison.Ordinal)) return new Source(SourceKind.RowScene, attr, attr[6..], vocab, null);
        return new Source(attr == "query" ? SourceKind.RowQuery : SourceKind.RowOther, attr, attr, vocab, null);
    }

    public Batch Encode(ScoreInput input, long nowSeconds)
    {
        int n = input.Candidates.Count;
        var batch = new Batch(bundle.Schema, n);
        var user = bundle.Users.Of(input.UserId);
        long ts = input.Timestamp ?? nowSeconds;
        // one dictionary lookup per candidate, shared by every item-level field
        var candidateIndex = new int[n];
        for (int r = 0; r < n; r++) candidateIndex[r] = knownItems.TryGetValue(input.Candidates[r].ItemId, out var k) ? k : -1;
        Span<int> one = stackalloc int[1];
        foreach (var f in fields)
        {
            var src = f.Source;
            if (!src.IsItemLevel)
            {
                // the same for every row unless a candidate gives the row attribute itself
                var shared = Ids(src.Vocabulary, RequestValues(src, input, user, ts));
                bool rowLevel = src.Kind is SourceKind.RowContext or SourceKind.RowScene or SourceKind.RowQuery or SourceKind.RowOther;
                if (!f.Multi)
                {
                    var ids = batch.Ids(f.Name);
                    int id = shared.Length > 0 ? shared[0] : Vocabulary.OutOfVocabulary;
                    for (int r = 0; r < n; r++)
                        ids[r] = rowLevel && Given(input.Candidates[r], src.Key) is { } own ? First(src.Vocabulary, own) : id;
                }
                else
                {
                    var m = batch.MultiField(f.Name);
                    for (int r = 0; r < n; r++)
                    {
                        var dst = m.Ids.AsSpan(r * m.Width, m.Width);
                        m.Lengths[r] = rowLevel && Given(input.Candidates[r], src.Key) is { } own ? Many(src.Vocabulary, own, dst) : Copy(shared, dst);
                    }
                }
                continue;
            }
            if (!f.Multi)
            {
                var ids = batch.Ids(f.Name);
                for (int r = 0; r < n; r++)
                    ids[r] = WriteItem(src, input.Candidates[r], candidateIndex[r], one) > 0 ? one[0] : Vocabulary.OutOfVocabulary;
            }
            else
            {
                var m = batch.MultiField(f.Name);
                for (int r = 0; r < n; r++) m.Lengths[r] = WriteItem(src, input.Candidates[r], candidateIndex[r], m.Ids.AsSpan(r * m.Width, m.Width));
            }
        }
        if (sequence is { } s) FillHistory(s, batch.Sequence(s.Name), input);
        return batch;
    }

    /// <summary>Row 0 gets the most recent MaxLen history items (oldest first), then every row copies it.</summary>
    void FillHistory(SequencePlan s, SequenceValues sv, ScoreInput input)
    {
        var history = input.History ?? [];
        int len = Math.Min(history.Count, sv.MaxLen), skip = history.Count - len;
        Span<int> one = stackalloc int[1];
        for (int l = 0; l < len; l++)
        {
            var item = history[skip + l];
            int known = knownItems.TryGetValue(item.ItemId, out var k) ? k : -1;
            sv.Items[l] = WriteItem(s.Items, item, known, one) > 0 ? one[0] : Vocabulary.OutOfVocabulary;
            foreach (var side in s.Sides)
            {
                var ids = sv.Side(side.Name);
                if (side.Width == 1) ids[l] = WriteItem(side.Source, item, known, one) > 0 ? one[0] : Vocabulary.OutOfVocabulary;
                else WriteItem(side.Source, item, known, ids.AsSpan(l * side.Width, side.Width));
            }
        }
        int count = sv.Lengths.Length;
        Array.Fill(sv.Lengths, len);
        for (int r = 1; r < count; r++)
        {
            Array.Copy(sv.Items, 0, sv.Items, r * sv.MaxLen, sv.MaxLen);
            foreach (var side in s.Sides)
            {
                var arr = sv.Side(side.Name);
                int w = sv.MaxLen * side.Width;
                Array.Copy(arr, 0, arr, r * w, w);
            }
        }
    }

    /// <summary>An item-level source of one item into dst: the item's own attribute if it gives one, else the pre-encoded ids.</summary>
    static int WriteItem(Source src, ItemInput item, int known, Span<int> dst)
    {
        if (src.Kind == SourceKind.ItemAttribute && Given(item, src.Key) is { } own) return Many(src.Vocabulary, own, dst);
        if (known >= 0) return Copy(src.Known![known], dst);
        // not a known item: its id may still hash into the vocabulary; it has no attributes
        if (src.Kind == SourceKind.ItemId) { dst[0] = src.Vocabulary.Id(item.ItemId); return 1; }
        return 0;
    }

    static string[]? Given(ItemInput item, string key) =>
        item.Attributes.Count > 0 && item.Attributes.TryGetValue(key, out var v) ? v : null;

    /// <summary>
    /// The raw values of a source that is not an item's. Request values win over the bundle's
    /// tables: a user's attributes from the context; row.context.K from context.K, row.scene.K
    /// from scene.K (as the impression log spells them); row.query from the query text.
    /// </summary>
    static string[]? RequestValues(Source src, ScoreInput input, IReadOnlyDictionary<string, string[]> user, long ts)
    {
        switch (src.Kind)
        {
            case SourceKind.UserId: return [input.UserId];
            case SourceKind.UserAttribute: return input.Context.TryGetValue(src.Key, out var v) ? v : user.TryGetValue(src.Key, out var u) ? u : null;
            case SourceKind.TimeHour: return SmallNumbers[DateTimeOffset.FromUnixTimeSeconds(ts).UtcDateTime.Hour];
            case SourceKind.TimeWeekday: return SmallNumbers[(int)DateTimeOffset.FromUnixTimeSeconds(ts).UtcDateTime.DayOfWeek];
            case SourceKind.RowContext: return input.Context.TryGetValue(src.RequestKey, out var c) ? c : null;
            case SourceKind.RowScene: return input.Scene.TryGetValue(src.RequestKey, out var s) ? s : null;
            case SourceKind.RowQuery:
                if (input.Context.TryGetValue(src.Key, out var q)) return q;
                return input.Query is not null ? QueryTokens.FromText(input.Query) : null;
            default: return input.Context.TryGetValue(src.Key, out var o) ? o : null;
        }
    }

    static int[] Ids(Vocabulary v, string[]? values)
    {
        if (values is null || values.Length == 0) return [];
        var ids = new int[values.Length];
        for (int j = 0; j < ids.Length; j++) ids[j] = v.Id(values[j]);
        return ids;
    }

    static int Copy(int[] ids, Span<int> dst)
    {
        int take = Math.Min(ids.Length, dst.Length);
        ids.AsSpan(0, take).CopyTo(dst);
        return take;
    }

    // The same rules as the protocol builder: a missing value is the OOV id for a single-valued
    // field and an empty list for a multi-valued one.
    static int First(Vocabulary v, string[] values) => values.Length == 0 ? Vocabulary.OutOfVocabulary : v.Id(values[0]);

    static int Many(Vocabulary v, string[]? values, Span<int> dst)
    {
        if (values is null) return 0;
        int take = Math.Min(values.Length, dst.Length);
        for (int j = 0; j < take; j++) dst[j] = v.Id(values[j]);
        return take;
    }
}
