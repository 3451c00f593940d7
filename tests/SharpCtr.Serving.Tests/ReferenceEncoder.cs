using SharpCtr.Data.Batching;
using SharpCtr.Data.Readers;
using SharpCtr.Data.Schema;
using SharpCtr.Serving.Bundles;
using SharpCtr.Serving.Scoring;

namespace SharpCtr.Serving.Tests;

/// <summary>
/// The plain way to encode a request, value by value: every field of every row resolves its
/// source from the request and the bundle's tables and goes through the vocabulary. Slow; the
/// reference <see cref="RequestEncoder"/>'s pre-encoded items are checked against.
/// </summary>
static class ReferenceEncoder
{
    public static Batch Encode(ModelBundle bundle, ScoreInput input, long now)
    {
        var schema = bundle.Schema;
        int n = input.Candidates.Count;
        var batch = new Batch(schema, n);
        long ts = input.Timestamp ?? now;
        foreach (var f in schema.Fields)
        {
            var vocab = bundle.Vocabulary(f.Source);
            for (int r = 0; r < n; r++)
            {
                var values = Resolve(bundle, f.Source, input, input.Candidates[r], ts);
                if (f.Kind == "categorical") batch.Ids(f.Name)[r] = values is { Length: > 0 } ? vocab.Id(values[0]) : Vocabulary.OutOfVocabulary;
                else
                {
                    var m = batch.MultiField(f.Name);
                    int take = Math.Min(values?.Length ?? 0, m.Width);
                    for (int j = 0; j < take; j++) m.Ids[r * m.Width + j] = vocab.Id(values![j]);
                    m.Lengths[r] = take;
                }
            }
        }
        if (schema.Sequence is { } s)
        {
            var sv = batch.Sequence(s.Name);
            var history = input.History ?? [];
            int len = Math.Min(history.Count, s.MaxLen), skip = history.Count - len;
            for (int r = 0; r < n; r++)
            {
                sv.Lengths[r] = len;
                for (int l = 0; l < len; l++)
                {
                    var item = history[skip + l];
                    var ids = Resolve(bundle, s.Source, input, item, ts);
                    sv.Items[r * s.MaxLen + l] = ids is { Length: > 0 } ? bundle.Vocabulary(s.Source).Id(ids[0]) : Vocabulary.OutOfVocabulary;
                    foreach (var side in s.Sides)
                    {
                        var values = Resolve(bundle, side.Source, input, item, ts);
                        var dst = sv.Side(side.Name);
                        var vocab = bundle.Vocabulary(side.Source);
                        if (side.Width == 1) dst[r * s.MaxLen + l] = values is { Length: > 0 } ? vocab.Id(values[0]) : Vocabulary.OutOfVocabulary;
                        else
                            for (int j = 0; j < Math.Min(values?.Length ?? 0, side.Width); j++) dst[(r * s.MaxLen + l) * side.Width + j] = vocab.Id(values![j]);
                    }
                }
            }
        }
        return batch;
    }

    static string[]? Resolve(ModelBundle bundle, string source, ScoreInput input, ItemInput item, long ts)
    {
        var when = DateTimeOffset.FromUnixTimeSeconds(ts).UtcDateTime;
        if (source == "user_id") return [input.UserId];
        if (source == "item_id") return [item.ItemId];
        if (source == "time.hour") return [when.Hour.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        if (source == "time.weekday") return [((int)when.DayOfWeek).ToString(System.Globalization.CultureInfo.InvariantCulture)];
        if (source.StartsWith("user.", StringComparison.Ordinal))
            return input.Context.GetValueOrDefault(source[5..]) ?? bundle.Users.Of(input.UserId).GetValueOrDefault(source[5..]);
        if (source.StartsWith("item.", StringComparison.Ordinal))
            return item.Attributes.GetValueOrDefault(source[5..]) ?? bundle.Items.Of(item.ItemId).GetValueOrDefault(source[5..]);
        var attr = source[4..];
        if (item.Attributes.TryGetValue(attr, out var own)) return own;
        if (attr.StartsWith("context.", StringComparison.Ordinal)) return input.Context.GetValueOrDefault(attr[8..]);
        if (attr.StartsWith("scene.", StringComparison.Ordinal)) return input.Scene.GetValueOrDefault(attr[6..]);
        return input.Context.GetValueOrDefault(attr) ?? (attr == "query" && input.Query is not null ? QueryTokens.FromText(input.Query) : null);
    }
}
