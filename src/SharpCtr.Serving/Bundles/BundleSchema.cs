using System.Text.Json;
using System.Text.Json.Serialization;
using SharpCtr.Data.Encoded;
using SharpCtr.Data.Schema;

namespace SharpCtr.Serving.Bundles;

/// <summary>
/// schema.json + vocabularies.json: the shape of the training data set without its samples —
/// every field's kind, source, vocabulary size and width, the behaviour sequence's layout, and
/// each source's vocabulary (raw value → id). Enough to build the model and encode requests.
/// </summary>
public static class BundleSchema
{
    public const string SchemaFile = "schema.json";
    public const string VocabularyFile = "vocabularies.json";

    sealed record FieldJson(
        [property: JsonPropertyName("name")] string Name, [property: JsonPropertyName("kind")] string Kind,
        [property: JsonPropertyName("source")] string Source, [property: JsonPropertyName("vocab_size")] int VocabSize,
        [property: JsonPropertyName("width")] int Width);

    sealed record SequenceJson(
        [property: JsonPropertyName("name")] string Name, [property: JsonPropertyName("source")] string Source,
        [property: JsonPropertyName("max_len")] int MaxLen, [property: JsonPropertyName("vocab_size")] int VocabSize,
        [property: JsonPropertyName("sides")] List<FieldJson> Sides);

    sealed record SchemaJson(
        [property: JsonPropertyName("dataset")] string Dataset, [property: JsonPropertyName("fields")] List<FieldJson> Fields,
        [property: JsonPropertyName("sequence")] SequenceJson? Sequence);

    sealed record VocabularyJson(
        [property: JsonPropertyName("source")] string Source, [property: JsonPropertyName("min_count")] int MinCount,
        [property: JsonPropertyName("hash_buckets")] int HashBuckets, [property: JsonPropertyName("tokens")] List<string> Tokens);

    public static void Write(string dir, EncodedDataset d)
    {
        foreach (var f in d.Fields)
            if (f.Kind == "dense") throw new BundleException($"field '{f.Name}' is dense (source {f.Source}); bundles do not carry item vectors yet");
        var seq = d.Sequence is { } s
            ? new SequenceJson(s.Name, s.Source, s.MaxLen, s.VocabSize, s.Sides.Select(x => new FieldJson(x.Name, x.Width > 1 ? "multi" : "categorical", x.Source, x.VocabSize, x.Width)).ToList())
            : null;
        var schema = new SchemaJson(d.Name, d.Fields.Select(f => new FieldJson(f.Name, f.Kind, f.Source, f.VocabSize, f.Width)).ToList(), seq);
        File.WriteAllText(Path.Combine(dir, SchemaFile), JsonSerializer.Serialize(schema, BundleManifest.Json));
        var vocabs = d.Vocabularies.Select(v => new VocabularyJson(v.Source, v.MinCount, v.HashBuckets, v.Tokens.ToList())).ToList();
        File.WriteAllText(Path.Combine(dir, VocabularyFile), JsonSerializer.Serialize(vocabs, BundleManifest.Json));
    }

    /// <summary>An <see cref="EncodedDataset"/> with the training set's fields, sequence layout and vocabularies but no samples.</summary>
    public static EncodedDataset Read(string dir)
    {
        var schema = ReadJson<SchemaJson>(dir, SchemaFile);
        var vocabs = ReadJson<List<VocabularyJson>>(dir, VocabularyFile);
        var vocabularies = vocabs.Select(v => new Vocabulary(v.Source, v.Tokens, v.MinCount, v.HashBuckets)).ToList();
        foreach (var f in schema.Fields)
        {
            if (f.Kind is not ("categorical" or "multi")) throw new BundleException($"{Path.Combine(dir, SchemaFile)}: field '{f.Name}': kind '{f.Kind}' is not servable");
            if (!vocabularies.Exists(v => v.Source == f.Source)) throw new BundleException($"{Path.Combine(dir, VocabularyFile)}: no vocabulary for source '{f.Source}' (field '{f.Name}')");
        }
        EncodedSequence? seq = null;
        if (schema.Sequence is { } s)
            seq = new EncodedSequence
            {
                Name = s.Name, Source = s.Source, MaxLen = s.MaxLen, VocabSize = s.VocabSize,
                UserStart = [0], Items = [], SampleStart = [], SampleLength = [],
                Sides = s.Sides.Select(x => new EncodedSequenceSide { Name = x.Name, Source = x.Source, VocabSize = x.VocabSize, Width = x.Width, Ids = [] }).ToList(),
            };
        return new EncodedDataset
        {
            Name = schema.Dataset, Count = 0, Labels = [], User = [], Group = [], Split = [],
            Fields = schema.Fields.Select(f => new EncodedField { Name = f.Name, Kind = f.Kind, Source = f.Source, VocabSize = f.VocabSize, Width = f.Width }).ToList(),
            Sequence = seq, Vocabularies = vocabularies,
        };
    }

    internal static T ReadJson<T>(string dir, string file)
    {
        var path = Path.Combine(dir, file);
        try { return JsonSerializer.Deserialize<T>(File.ReadAllText(path), BundleManifest.Json) ?? throw new BundleException($"{path}: empty"); }
        catch (JsonException e) { throw new BundleException($"{path}: line {e.LineNumber + 1}: {e.Message}"); }
    }
}
