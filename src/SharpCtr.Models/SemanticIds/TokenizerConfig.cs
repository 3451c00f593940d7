using SharpCtr.Data;
using SharpCtr.Data.Config;
using SharpCtr.Data.Vectors;

namespace SharpCtr.Models.SemanticIds;

/// <summary>
/// A tokenizer configuration (strict keys): which items (the data config), where their vectors
/// come from (text | cooccurrence | hybrid | file), the RQ-VAE and its training, and the output file.
/// </summary>
public sealed class TokenizerConfig
{
    public required DataConfig? Data { get; init; }
    /// <summary>text | cooccurrence | hybrid (both, concatenated) | file.</summary>
    public required string VectorSource { get; init; }
    public required TextVectorOptions Text { get; init; }
    public required CooccurrenceOptions Cooccurrence { get; init; }
    /// <summary>For source: file, a TSV or .npy of item vectors.</summary>
    public string? VectorFile { get; init; }
    public required RqVaeOptions Model { get; init; }
    public required RqVaeTrainOptions Train { get; init; }
    /// <summary>First value of the collision digit (0, or 1 as in the authors' published files).</summary>
    public int CollisionStart { get; init; }
    public required string Out { get; init; }
    public string ResolvedYaml { get; private set; } = "";

    public static TokenizerConfig Load(string path, IEnumerable<string>? overrides = null) => FromRoot(ConfigLoader.Load(path, overrides));
    public static TokenizerConfig Parse(string yaml, IEnumerable<string>? overrides = null) => FromRoot(ConfigLoader.LoadText(yaml, "<tokenizer config>", overrides));

    static TokenizerConfig FromRoot(ConfigSection root)
    {
        var v = root.Section("vectors");
        var source = v.GetChoice("source", "text", "text", "cooccurrence", "hybrid", "file");
        int dim = v.GetInt("dim", 128, min: 1);
        int oversample = v.GetInt("oversample", 10, min: 1);
        int power = v.GetInt("power_iterations", 4, min: 0);
        ulong seed = (ulong)v.GetLong("seed", 2024);
        var t = v.Section("text");
        var w = t.Section("weights");
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var f in ItemDocuments.Fields) weights[f] = w.GetDouble(f, 1);
        var text = new TextVectorOptions(dim, t.GetInt("min_df", 1, min: 0), t.GetBool("sublinear_tf", false), t.GetInt("year_bucket", 1, min: 1),
            oversample, power, seed, weights);
        var c = v.Section("cooccurrence");
        var co = new CooccurrenceOptions(dim, c.GetInt("window", 10, min: 1), oversample, power, seed);
        var file = v.GetOptionalString("file");
        if (source == "file" && file == null) throw new ConfigException($"{v.Where}: 'vectors.source: file' needs 'vectors.file' (a TSV or .npy of item vectors)");

        var r = root.Section("rqvae");
        var hidden = r.GetIntList("hidden", [512, 256, 128], min: 1).ToArray();
        var model = new RqVaeOptions(hidden, r.GetInt("latent_dim", 32, min: 1), r.GetInt("levels", 3, min: 1), r.GetInt("codebook_size", 256, min: 2),
            (float)r.GetDouble("beta", 0.25, min: 0), r.GetChoice("codebook_update", "ema", "ema", "gradient") == "ema", (float)r.GetDouble("ema_decay", 0.99, min: 0, below: 1));
        var train = new RqVaeTrainOptions(r.GetInt("epochs", 500, min: 1), r.GetInt("batch_size", 1024, min: 1), (float)r.GetDouble("learning_rate", 1e-3, min: 0),
            r.GetChoice("optimizer", "adam", "adam", "adagrad"), r.GetChoice("kmeans_init", "all", "all", "first_batch") == "all",
            r.GetInt("kmeans_iterations", 20, min: 0), r.GetBool("dead_code_reset", true), (ulong)r.GetLong("seed", 2024));
        if (!(train.LearningRate > 0)) throw new ConfigException($"{r.Where}: rqvae.learning_rate must be positive");

        DataConfig? data = root.Has("data") ? DataConfig.FromSection(root.Section("data")) : null;
        if (data == null && source != "file") throw new ConfigException($"{root.Where}: 'data' (a data config naming the items) is required for vectors.source: {source}");
        var config = new TokenizerConfig
        {
            Data = data,
            VectorSource = source,
            Text = text,
            Cooccurrence = co,
            VectorFile = file,
            Model = model,
            Train = train,
            CollisionStart = root.GetInt("collision_start", 0, min: 0),
            Out = root.GetString("out", Path.Combine(".build", "semantic-ids", (data?.Name ?? "items") + ".json")),
        };
        root.Validate();
        config.ResolvedYaml = root.ToYaml();
        return config;
    }
}
