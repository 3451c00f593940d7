using SharpCtr.Data.Config;

namespace SharpCtr.Data;

/// <summary>What fields a sample has and where their values come from.</summary>
/// <param name="Source">user_id, item_id, user.&lt;attr&gt;, item.&lt;attr&gt;, row.&lt;attr&gt;,
/// time.hour or time.weekday (UTC, from the interaction timestamp).</param>
public sealed record FieldSpec(string Name, string Kind, string Source, int MaxLen, int MinCount, int HashBuckets);

/// <summary>The data section of a configuration (a data.yaml, or `data:` of an experiment).</summary>
public sealed class DataConfig
{
    public string Name { get; private init; } = "";
    // source
    public string Format { get; private init; } = "";
    public string Path { get; private init; } = "";
    public string Ratings { get; private init; } = "auto";
    public string? Reviews { get; private init; }
    public string? Meta { get; private init; }
    public string? ItemsFile { get; private init; }
    public string Delimiter { get; private init; } = "auto";
    public string UserColumn { get; private init; } = "user_id";
    public string ItemColumn { get; private init; } = "item_id";
    public string? RatingColumn { get; private init; }
    public string? TimestampColumn { get; private init; }
    public bool SkipBadLines { get; private init; }
    /// <summary>Semantic-ID JSON (under the data root; ./ or ../ paths: the working directory): item attributes semantic_id, semantic_id.0, …</summary>
    public string? SemanticIds { get; private init; }
    /// <summary>Item vector files by name (as <see cref="SemanticIds"/>): dense fields with source item.&lt;name&gt;.</summary>
    public List<KeyValuePair<string, string>> ItemVectorFiles { get; private init; } = new();
    // protocol
    public string LabelKind { get; private init; } = "rating";
    public double PositiveAbove { get; private init; } = 3;
    public double NegativeBelow { get; private init; } = 3;
    public int MinUserInteractions { get; private init; }
    public int MinItemInteractions { get; private init; }
    public string SplitKind { get; private init; } = "ratio_per_user";
    public double[] SplitRatios { get; private init; } = { 0.8, 0.1, 0.1 };
    public int SplitSeed { get; private init; } = 42;
    public int NegativesPerPositive { get; private init; }
    public int NegativeSeed { get; private init; } = 42;
    public List<FieldSpec> Fields { get; private init; } = new();
    public string? SequenceName { get; private init; }
    public string SequenceSource { get; private init; } = "item_id";
    public int SequenceMaxLen { get; private init; } = 50;
    public string SequenceFrom { get; private init; } = "positives";
    public List<FieldSpec> SequenceSides { get; private init; } = new();
    public int MinCount { get; private init; } = 1;
    public int HashBuckets { get; private init; }
    public string CacheDir { get; private init; } = "";
    /// <summary>The resolved configuration (defaults filled in): part of the cache key.</summary>
    public string ResolvedYaml { get; private set; } = "";

    public static readonly string[] Formats = { "movielens", "movielens-100k", "amazon", "interactions", "sequence-json", "impressions" };

    /// <summary>Reads a data config file (or an experiment file's `data` section) strictly.</summary>
    public static DataConfig Load(string path, IEnumerable<string>? overrides = null) => FromRoot(ConfigLoader.Load(path, overrides));

    /// <summary>Reads a data config from YAML text (tests, programmatic use).</summary>
    public static DataConfig Parse(string yaml, IEnumerable<string>? overrides = null) => FromRoot(ConfigLoader.LoadText(yaml, "<data config>", overrides));

    static DataConfig FromRoot(ConfigSection root)
    {
        // an experiment file holds the data config under `data:`; its other sections belong to other layers
        var section = root.Keys.Contains("data") && !root.Keys.Contains("source") ? root.Section("data") : root;
        var config = Read(section);
        section.Validate();
        config.ResolvedYaml = section.ToYaml();
        return config;
    }

    /// <summary>Reads the data section of a larger configuration (the caller validates the whole tree).</summary>
    public static DataConfig FromSection(ConfigSection s)
    {
        var config = Read(s);
        config.ResolvedYaml = s.ToYaml();
        return config;
    }

    public static DataConfig Read(ConfigSection s)
    {
        var name = s.GetString("name");
        var src = s.Section("source");
        var label = s.Section("label");
        var filter = s.Section("filter");
        var split = s.Section("split");
        var neg = s.Section("negatives");
        var vocab = s.Section("vocab");
        int minCount = vocab.GetInt("min_count", 1, min: 0);
        int hashBuckets = vocab.GetInt("hash_buckets", 0, min: 0);
        var fields = new List<FieldSpec>();
        foreach (var f in s.SectionList("fields")) fields.Add(ReadField(f, minCount, hashBuckets, "categorical", "multi", "dense"));
        var seq = s.Section("sequence");
        var sides = new List<FieldSpec>();
        string? seqName = seq.GetOptionalString("name");
        foreach (var f in seq.SectionList("side")) sides.Add(ReadField(f, minCount, hashBuckets, "categorical", "multi"));
        var ratios = split.GetDoubleList("ratios", new[] { 0.8, 0.1, 0.1 }).ToArray();
        if (ratios.Length != 3 || ratios.Any(r => r < 0) || Math.Abs(ratios.Sum() - 1) > 1e-6)
            throw new ConfigException($"{split.Where}: 'split.ratios' must be three non-negative numbers summing to 1");
        var config = new DataConfig
        {
            Name = name,
            Format = src.GetChoice("format", "movielens", Formats),
            Path = src.GetString("path"),
            Ratings = src.GetString("ratings", "auto"),
            Reviews = src.GetOptionalString("reviews"),
            Meta = src.GetOptionalString("meta"),
            ItemsFile = src.GetOptionalString("items"),
            Delimiter = src.GetString("delimiter", "auto"),
            UserColumn = src.Section("columns").GetString("user", "user_id"),
            ItemColumn = src.Section("columns").GetString("item", "item_id"),
            RatingColumn = src.Section("columns").GetOptionalString("rating"),
            TimestampColumn = src.Section("columns").GetOptionalString("timestamp"),
            SkipBadLines = src.GetChoice("on_error", "fail", "fail", "skip") == "skip",
            SemanticIds = src.GetOptionalString("semantic_ids"),
            ItemVectorFiles = src.SectionList("item_vectors").Select(v => new KeyValuePair<string, string>(v.GetString("name"), v.GetString("path"))).ToList(),
            LabelKind = label.GetChoice("kind", "rating", "rating", "implicit", "clicked"),
            PositiveAbove = label.GetDouble("positive_above", 3),
            NegativeBelow = label.GetDouble("negative_below", 3),
            MinUserInteractions = filter.GetInt("min_user_interactions", 0, min: 0),
            MinItemInteractions = filter.GetInt("min_item_interactions", 0, min: 0),
            SplitKind = split.GetChoice("kind", "ratio_per_user", "ratio_per_user", "leave_one_out", "global_time", "random"),
            SplitRatios = ratios,
            SplitSeed = split.GetInt("seed", 42),
            NegativesPerPositive = neg.GetInt("per_positive", 0, min: 0),
            NegativeSeed = neg.GetInt("seed", 42),
            Fields = fields,
            SequenceName = seqName,
            SequenceSource = seq.GetString("source", "item_id"),
            SequenceMaxLen = seq.GetInt("max_len", 50, min: 1),
            SequenceFrom = seq.GetChoice("from", "positives", "positives", "all"),
            SequenceSides = sides,
            MinCount = minCount,
            HashBuckets = hashBuckets,
            CacheDir = s.GetString("cache_dir", ""),
        };
        if (fields.Count == 0) throw new ConfigException($"{s.Where}: 'fields' must list at least one field");
        return config;
    }

    static FieldSpec ReadField(ConfigSection f, int minCount, int hashBuckets, params string[] kinds)
    {
        var name = f.GetString("name");
        var kind = f.GetChoice("kind", "categorical", kinds);
        var source = f.GetString("source", name);
        var spec = new FieldSpec(name, kind, source, f.GetInt("max_len", 0, min: 0), f.GetInt("min_count", minCount, min: 0), f.GetInt("hash_buckets", hashBuckets, min: 0));
        f.Validate(); // a misspelt key explains a wrong source better than the source check would
        if (!(source is "user_id" or "item_id" or "time.hour" or "time.weekday") &&
            !source.StartsWith("user.", StringComparison.Ordinal) && !source.StartsWith("item.", StringComparison.Ordinal) && !source.StartsWith("row.", StringComparison.Ordinal))
            throw new ConfigException($"{f.Where}: field '{name}': source '{source}' must be user_id, item_id, time.hour, time.weekday, user.<attr>, item.<attr> or row.<attr>");
        return spec;
    }
}
