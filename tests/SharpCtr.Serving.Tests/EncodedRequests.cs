using System.Text.Json.Nodes;
using SharpCtr.Data.Encoded;
using SharpCtr.Data.Schema;

namespace SharpCtr.Serving.Tests;

/// <summary>
/// Score requests rebuilt from encoded samples, for any schema: each field's ids map back to raw
/// values through its vocabulary and land where a client would put them (user_id, the
/// candidate's item_id, query text, context / scene objects, candidate row attributes such as
/// position, the history's item ids). Item and user attributes are left to the bundle's tables.
/// Out-of-vocabulary ids become a value no vocabulary knows.
/// </summary>
static class EncodedRequests
{
    public const string Unknown = "nosuchvalue";   // one word: survives query tokenization as one token

    public static string[] Tokens(EncodedDataset d, EncodedField f, int sample)
    {
        var vocab = d.Vocabulary(f.Source);
        int[] ids = f.Kind == "multi" ? f.Ids[f.Offsets[sample]..f.Offsets[sample + 1]] : [f.Ids[sample]];
        return ids.Select(id => vocab.Token(id) ?? Unknown).ToArray();
    }

    /// <summary>One request for several samples of the same request (same user, row context and history), one candidate each.</summary>
    public static JsonObject Body(EncodedDataset d, int[] samples)
    {
        int first = samples[0];
        var body = new JsonObject();
        var context = new JsonObject();
        var scene = new JsonObject();
        var candidates = new JsonArray();
        foreach (int s in samples) candidates.Add(new JsonObject());
        foreach (var f in d.Fields)
        {
            var src = f.Source;
            if (src == "user_id") body["user_id"] = Tokens(d, f, first)[0];
            else if (src == "row.query") { var q = Tokens(d, f, first); if (q.Length > 0) body["query"] = string.Join(" ", q); }
            else if (src.StartsWith("row.context.", StringComparison.Ordinal)) context[src["row.context.".Length..]] = Tokens(d, f, first)[0];
            else if (src.StartsWith("row.scene.", StringComparison.Ordinal)) scene[src["row.scene.".Length..]] = Tokens(d, f, first)[0];
            else if (src == "item_id" || src.StartsWith("row.", StringComparison.Ordinal))
                for (int k = 0; k < samples.Length; k++) candidates[k]![src == "item_id" ? "item_id" : src[4..]] = Tokens(d, f, samples[k])[0];
            else if (src.StartsWith("time.", StringComparison.Ordinal)) throw new NotSupportedException($"field {f.Name}: time sources need the sample's timestamp");
            // user.* and item.*: the bundle's tables
        }
        body["candidates"] = candidates;
        if (context.Count > 0) body["context"] = context;
        if (scene.Count > 0) body["scene"] = scene;
        if (d.Sequence is { } seq)
        {
            var vocab = d.Vocabulary(seq.Source);
            var history = new JsonArray();
            for (int k = 0; k < seq.SampleLength[first]; k++) history.Add(new JsonObject { ["item_id"] = vocab.Token(seq.Items[seq.SampleStart[first] + k]) ?? Unknown });
            body["history"] = history;
        }
        return body;
    }

    /// <summary>
    /// A one-sample data set equal to sample <paramref name="s"/> of <paramref name="d"/> except
    /// where <paramref name="fieldIds"/> (field, its ids → new ids) or <paramref name="historyIds"/>
    /// (items, each side's ids → new) change it: what the offline Evaluator scores for a request
    /// that leaves something out or names unknown ids.
    /// </summary>
    public static EncodedDataset OneSample(EncodedDataset d, int s,
        Func<EncodedField, int[], int[]>? fieldIds = null, Func<int[], Dictionary<string, int[]>, (int[] Items, Dictionary<string, int[]> Sides)>? historyIds = null)
    {
        var fields = new List<EncodedField>();
        foreach (var f in d.Fields)
        {
            int[] ids = f.Kind == "multi" ? f.Ids[f.Offsets[s]..f.Offsets[s + 1]] : [f.Ids[s]];
            if (fieldIds is not null) ids = fieldIds(f, ids);
            fields.Add(new EncodedField
            {
                Name = f.Name, Kind = f.Kind, Source = f.Source, VocabSize = f.VocabSize, Width = f.Width,
                Ids = ids, Offsets = f.Kind == "multi" ? [0, ids.Length] : [],
            });
        }
        EncodedSequence? sequence = null;
        if (d.Sequence is { } q)
        {
            int start = q.SampleStart[s], len = q.SampleLength[s];
            var items = q.Items[start..(start + len)];
            var sides = q.Sides.ToDictionary(x => x.Name, x => x.Ids[(start * x.Width)..((start + len) * x.Width)]);
            if (historyIds is not null) (items, sides) = historyIds(items, sides);
            sequence = new EncodedSequence
            {
                Name = q.Name, Source = q.Source, MaxLen = q.MaxLen, VocabSize = q.VocabSize,
                UserStart = [0, items.Length], Items = items, SampleStart = [0], SampleLength = [items.Length],
                Sides = q.Sides.Select(x => new EncodedSequenceSide { Name = x.Name, Source = x.Source, VocabSize = x.VocabSize, Width = x.Width, Ids = sides[x.Name] }).ToList(),
            };
        }
        return new EncodedDataset
        {
            Name = d.Name, Count = 1, Labels = [d.Labels[s]], User = [0], Group = [0], Split = [Splits.Test],
            Fields = fields, Sequence = sequence, Vocabularies = d.Vocabularies, UserCount = 1,
        };
    }

    public static bool IsUserLevel(string source) => source == "user_id" || source.StartsWith("user.", StringComparison.Ordinal);
    public static bool IsItemLevel(string source) => source == "item_id" || source.StartsWith("item.", StringComparison.Ordinal);

    /// <summary>What a missing value encodes to: OOV for one value, an empty list for several.</summary>
    public static int[] Missing(EncodedField f) => f.Kind == "multi" ? [] : [Vocabulary.OutOfVocabulary];
}
