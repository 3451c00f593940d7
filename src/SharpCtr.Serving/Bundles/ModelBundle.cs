using SharpCtr.Data.Encoded;
using SharpCtr.Data.Schema;
using SharpCtr.Models;
using SharpCtr.Serving.Scoring;
using SharpCtr.Tensors;
using SharpCtr.Tensors.IO;
using SharpCtr.Training.Experiments;

namespace SharpCtr.Serving.Bundles;

/// <summary>
/// A loaded, verified bundle: the model in inference mode with its weights, the schema and
/// vocabularies to encode requests, and the user/item attribute tables. Immutable once loaded,
/// so any number of requests may score with it at once.
/// </summary>
public sealed class ModelBundle
{
    public const string ConfigFile = "config.yaml";
    public const string WeightsFile = "weights.safetensors";
    public const string ItemsFile = "items.json";
    public const string UsersFile = "users.json";
    public static readonly string[] RequiredFiles = [ConfigFile, WeightsFile, BundleSchema.SchemaFile, BundleSchema.VocabularyFile, ItemsFile, UsersFile];

    public required string Directory { get; init; }
    public required BundleManifest Manifest { get; init; }
    public required EncodedDataset Schema { get; init; }
    public required CtrModel Model { get; init; }
    public required EntityTable Items { get; init; }
    public required EntityTable Users { get; init; }
    Dictionary<string, Vocabulary>? vocabularies;   // set once by Load
    RequestEncoder? encoder;                        // set once by Load
    public string ModelName => Manifest.Model;

    /// <summary>Encodes requests for this bundle (sources parsed and known items pre-encoded at load).</summary>
    public RequestEncoder Encoder => encoder!;

    public bool TryVocabulary(string source, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Vocabulary? vocabulary) =>
        vocabularies!.TryGetValue(source, out vocabulary);

    /// <summary>The vocabulary of a source (user_id, item.genre …).</summary>
    public Vocabulary Vocabulary(string source)
    {
        return vocabularies!.TryGetValue(source, out var v) ? v : throw new KeyNotFoundException($"bundle {Directory}: no vocabulary for source '{source}'");
    }
    public string Version => Manifest.Version;

    /// <summary>Reads a bundle folder: format version and every checksum first, then the model and its weights.</summary>
    public static ModelBundle Load(string dir)
    {
        dir = Path.GetFullPath(dir);
        var manifest = BundleManifest.Read(dir);
        manifest.Verify(dir, RequiredFiles);
        var schema = BundleSchema.Read(dir);
        var exp = Experiment.Load(Path.Combine(dir, ConfigFile));
        var model = BuildModel(exp, schema);
        try { Checkpoint.Load(Path.Combine(dir, WeightsFile), State(model)); }
        catch (CheckpointMismatchException e) { throw new BundleException($"{Path.Combine(dir, WeightsFile)}: weights do not fit model '{exp.ModelName}': {e.Message}"); }
        model.Freeze();   // weights never change in a loaded bundle: layers may pack them for the scoring kernels
        var bundle = new ModelBundle
        {
            Directory = dir, Manifest = manifest, Schema = schema, Model = model,
            Items = EntityTable.Read(dir, ItemsFile), Users = EntityTable.Read(dir, UsersFile),
        };
        bundle.vocabularies = schema.Vocabularies.ToDictionary(v => v.Source, StringComparer.Ordinal);
        bundle.encoder = new RequestEncoder(bundle);
        return bundle;
    }

    internal static CtrModel BuildModel(Experiment exp, EncodedDataset schema)
    {
        // ModelRegistry validates the model section; the data section was validated when the run was trained
        return ModelRegistry.Create(new ModelContext(schema, exp.Model, new Rng((ulong)exp.Train.Seed)));
    }

    /// <summary>Parameters and buffers (running statistics), as the trainer saves them.</summary>
    internal static Tensor[] State(CtrModel model) =>
        model.Parameters().Select(p => p.Value).Concat(model.Buffers().Select(b => b.Value)).ToArray();
}
