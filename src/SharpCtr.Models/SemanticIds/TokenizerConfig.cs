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
        int dim = v.GetInt("dim", 128);
        int oversample = v.GetInt("oversample", 10);
        int power = v.GetInt("power_iterations", 4);
        ulong seed = (ulong)v.GetLong("seed", 2024);
        var t = v.Section("text");
        var w = t.Section("weights");
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var f in ItemDocuments.Fields) weights[f] = w.GetDouble(f, 1);
        var text = new TextVectorOptions(dim, t.GetInt("min_df", 1), t.GetBool("sublinear_tf", false), t.GetInt("year_bucket", 1),
            oversample, power, seed, weights);
        var c = v.Section("cooccurrence");
        var co = new CooccurrenceOptions(dim, c.GetInt("window", 10), oversample, power, seed);
        var file = v.GetOptionalString("file");
        if (source == "file" && file == null) throw new ConfigException($"{v.Where}: 'vectors.source: file' needs 'vectors.file' (a TSV or .npy of item vectors)");
        if (dim < 1) throw new ConfigException($"{v.Where}: 'vectors.dim' must be ≥ 1");

        var r = root.Section("rqvae");
        var hidden = r.GetDoubleList("hidden", new double[] { 512, 256, 128 }).Select(x => (int)x).ToArray();
        var model = new RqVaeOptions(hidden, r.GetInt("latent_dim", 32), r.GetInt("levels", 3), r.GetInt("codebook_size", 256),
            (float)r.GetDouble("beta", 0.25), r.GetChoice("codebook_update", "ema", "ema", "gradient") == "ema", (float)r.GetDouble("ema_decay", 0.99));
        var train = new RqVaeTrainOptions(r.GetInt("epochs", 500), r.GetInt("batch_size", 1024), (float)r.GetDouble("learning_rate", 1e-3),
            r.GetChoice("optimizer", "adam", "adam", "adagrad"), r.GetChoice("kmeans_init", "all", "all", "first_batch") == "all",
            r.GetInt("kmeans_iterations", 20), r.GetBool("dead_code_reset", true), (ulong)r.GetLong("seed", 2024));
        if (model.Levels < 1 || model.CodebookSize < 2 || model.LatentDim < 1 || hidden.Any(h => h < 1))
            throw new ConfigException($"{r.Where}: rqvae needs levels ≥ 1, codebook_size ≥ 2, latent_dim ≥ 1 and positive hidden widths");
        if (train.Epochs < 1 || train.BatchSize < 1 || !(train.LearningRate > 0) || model.EmaDecay is < 0 or >= 1)
            throw new ConfigException($"{r.Where}: rqvae needs epochs ≥ 1, batch_size ≥ 1, learning_rate > 0 and ema_decay in [0, 1)");

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
            CollisionStart = root.GetInt("collision_start", 0),
            Out = root.GetString("out", Path.Combine(".build", "semantic-ids", (data?.Name ?? "items") + ".json")),
        };
        root.Validate();
        config.ResolvedYaml = root.ToYaml();
        return config;
    }
}
