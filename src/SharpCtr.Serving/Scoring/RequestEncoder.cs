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
/// </summary>
public static class RequestEncoder
{
    public static Batch Encode(ModelBundle bundle, ScoreInput input, long nowSeconds)
    {
        var schema = bundle.Schema;
        int n = input.Candidates.Count;
        var batch = new Batch(schema, n);
        var user = bundle.Users.Of(input.UserId);
        long ts = input.Timestamp ?? nowSeconds;
        foreach (var f in schema.Fields)
        {
            var vocab = bundle.Vocabulary(f.Source);
            bool perCandidate = IsItemLevel(f.Source) || f.Source.StartsWith("row.", StringComparison.Ordinal);
            if (f.Kind == "categorical")
            {
                var ids = batch.Ids(f.Name);
                if (!perCandidate) { Array.Fill(ids, First(vocab, Resolve(f.Source, input, user, null, bundle, ts))); continue; }
                for (int r = 0; r < n; r++) ids[r] = First(vocab, Resolve(f.Source, input, user, input.Candidates[r], bundle, ts));
            }
            else
            {
                var m = batch.MultiField(f.Name);
                string[]? shared = perCandidate ? null : Resolve(f.Source, input, user, null, bundle, ts);
                for (int r = 0; r < n; r++)
                    m.Lengths[r] = Many(vocab, shared ?? Resolve(f.Source, input, user, input.Candidates[r], bundle, ts), m.Ids.AsSpan(r * m.Width, m.Width));
            }
        }
        if (schema.Sequence is { } s) FillHistory(bundle, s, batch.Sequence(s.Name), input, user, ts);
        return batch;
    }

    /// <summary>Row 0 gets the most recent MaxLen history items (oldest first), then every row copies it.</summary>
    static void FillHistory(ModelBundle bundle, Data.Encoded.EncodedSequence s, SequenceValues sv, ScoreInput input, IReadOnlyDictionary<string, string[]> user, long ts)
    {
        var history = input.History ?? [];
        int len = Math.Min(history.Count, s.MaxLen), skip = history.Count - len;
        var itemVocab = bundle.Vocabulary(s.Source);
        for (int l = 0; l < len; l++) sv.Items[l] = First(itemVocab, Resolve(s.Source, input, user, history[skip + l], bundle, ts));
        foreach (var side in s.Sides)
        {
            var vocab = bundle.Vocabulary(side.Source);
            var ids = sv.Side(side.Name);
            for (int l = 0; l < len; l++)
            {
                var values = Resolve(side.Source, input, user, history[skip + l], bundle, ts);
                if (side.Width == 1) ids[l] = First(vocab, values);
                else Many(vocab, values, ids.AsSpan(l * side.Width, side.Width));
            }
        }
        int count = sv.Lengths.Length;
        for (int r = 0; r < count; r++) sv.Lengths[r] = len;
        for (int r = 1; r < count; r++)
        {
            Array.Copy(sv.Items, 0, sv.Items, r * sv.MaxLen, sv.MaxLen);
            foreach (var (name, arr) in sv.Sides)
            {
                int w = sv.MaxLen * sv.SideWidth(name);
                Array.Copy(arr, 0, arr, r * w, w);
            }
        }
    }

    /// <summary>
    /// The raw values of a source for one row. Request values win over the bundle's tables:
    /// an item's attributes from the candidate (or history item), a user's from the context.
    /// </summary>
    static string[]? Resolve(string source, ScoreInput input, IReadOnlyDictionary<string, string[]> user, ItemInput? item, ModelBundle bundle, long ts)
    {
        switch (source)
        {
            case "user_id": return [input.UserId];
            case "item_id": return item is null ? null : [item.ItemId];
            case "time.hour": return [DateTimeOffset.FromUnixTimeSeconds(ts).UtcDateTime.Hour.ToString(CultureInfo.InvariantCulture)];
            case "time.weekday": return [((int)DateTimeOffset.FromUnixTimeSeconds(ts).UtcDateTime.DayOfWeek).ToString(CultureInfo.InvariantCulture)];
        }
        if (source.StartsWith("user.", StringComparison.Ordinal))
        {
            var name = source[5..];
            return input.Context.TryGetValue(name, out var v) ? v : user.TryGetValue(name, out var u) ? u : null;
        }
        if (source.StartsWith("item.", StringComparison.Ordinal))
        {
            if (item is null) return null;
            var name = source[5..];
            return item.Attributes.TryGetValue(name, out var v) ? v : bundle.Items.Of(item.ItemId).TryGetValue(name, out var t) ? t : null;
        }
        var attr = source[4..];   // row.<attr>
        if (item is not null && item.Attributes.TryGetValue(attr, out var own)) return own;
        if (input.Context.TryGetValue(attr, out var c)) return c;
        return attr == "query" && input.Query is not null ? QueryTokens.FromText(input.Query) : null;
    }

    static bool IsItemLevel(string source) => source == "item_id" || source.StartsWith("item.", StringComparison.Ordinal);

    // The same rules as the protocol builder: a missing value is the OOV id for a single-valued
    // field and an empty list for a multi-valued one.
    static int First(Vocabulary v, string[]? values) => values is null || values.Length == 0 ? Vocabulary.OutOfVocabulary : v.Id(values[0]);

    static int Many(Vocabulary v, string[]? values, Span<int> dst)
    {
        if (values is null) return 0;
        int take = Math.Min(values.Length, dst.Length);
        for (int j = 0; j < take; j++) dst[j] = v.Id(values[j]);
        return take;
    }
}
