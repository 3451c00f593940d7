using System.Text;
using SharpCtr.Data;
using SharpCtr.Data.Encoded;
using SharpCtr.Data.Synthetic;
using SharpCtr.Serving.Bundles;
using SharpCtr.Training.Experiments;
using SharpCtr.Training.Tests.Models;
using SharpCtr.Training.Trainer;

namespace SharpCtr.Serving.Tests;

/// <summary>
/// A tiny trained GenCI and a tiny trained CDP, each exported as a bundle. GenCI trains on the
/// planted MovieLens data with made-up semantic IDs; CDP on a tiny synthetic search log, which has
/// what CDP conditions on: a query, context (hour, weekday, page) and scene (device, source).
/// </summary>
public sealed class ModelFamilyFixture : IDisposable
{
    public sealed record Trained(EncodedDataset Data, string Bundle);

    readonly PlantedData planted = new(users: 120, movies: 48, perUser: 24);
    public Trained GenCi { get; }
    public Trained Cdp { get; }

    public ModelFamilyFixture()
    {
        GenCi = TrainGenCi();
        Cdp = TrainCdp();
    }

    Trained TrainGenCi()
    {
        var root = planted.Root;
        // three codes per movie, unique by construction (m = 16·c2 + 4·c1 + c0)
        var ids = new StringBuilder("{");
        foreach (var line in File.ReadLines(Path.Combine(root, "ml", "movies.dat"), Encoding.Latin1))
        {
            int m = int.Parse(line[..line.IndexOf(':')]);
            ids.Append(ids.Length > 1 ? ", " : "").Append($"\"{m}\": [{m % 4}, {m / 4 % 4}, {m / 16}]");
        }
        File.WriteAllText(Path.Combine(root, "ml", "sem_ids.json"), ids.Append('}').ToString());
        File.WriteAllText(Path.Combine(root, "serve-genci-data.yaml"), """
            include: data.yaml
            name: planted-genci
            source: {semantic_ids: ml/sem_ids.json}
            fields:
              - {name: user_id, source: user_id}
              - {name: gender, source: user.gender}
              - {name: item_id, source: item_id}
              - {name: genre, kind: multi, source: item.genre, max_len: 3}
              - {name: sid0, source: item.semantic_id.0}
              - {name: sid1, source: item.semantic_id.1}
              - {name: sid2, source: item.semantic_id.2}
            """);
        var experiment = Path.Combine(root, "serve-genci.yaml");
        File.WriteAllText(experiment, """
            data: {include: serve-genci-data.yaml}
            model: {name: genci, embedding_dim: 8, d_model: 16, heads: 2, head_dim: 8, d_ff: 16, encoder_layers: 1, decoder_layers: 1, mlp: [16], sr_mlp: [16], max_history: 8}
            train: {epochs: 1, batch_size: 256, learning_rate: 0.01, seed: 3, eval_batch_size: 1000}
            """);
        return TrainAndExport("genci", root, experiment);
    }

    Trained TrainCdp()
    {
        var root = Path.Combine(planted.Root, "search");
        var options = new SyntheticSearchOptions
        {
            Seed = 11, Users = 60, Days = 5, TopCategories = 3, LeavesPerTop = 2, ItemsPerLeaf = 10,
            MinSessions = 2, MaxSessions = 3, MinShown = 5, MaxShown = 8,
        };
        SearchLogWriter.Write(SearchLogGenerator.Generate(options), Path.Combine(root, "log"));
        File.WriteAllText(Path.Combine(root, "data.yaml"), """
            name: tiny-search
            source: {format: impressions, path: log}
            label: {kind: clicked}
            split: {kind: ratio_per_user, ratios: [0.6, 0.2, 0.2]}
            fields:
              - {name: user_id, source: user_id}
              - {name: item_id, source: item_id}
              - {name: category, source: item.category}
              - {name: query, kind: multi, source: row.query, max_len: 4}
              - {name: position, source: row.position}
              - {name: hour, source: row.context.hour}
              - {name: weekday, source: row.context.weekday}
              - {name: device, source: row.scene.device}
              - {name: search_source, source: row.scene.source}
            sequence:
              name: clicks
              source: item_id
              max_len: 10
              from: positives
              side:
                - {name: category, source: item.category}
            """);
        var experiment = Path.Combine(root, "cdp.yaml");
        File.WriteAllText(experiment, """
            data: {include: data.yaml}
            model: {name: cdp, embedding_dim: 8, condition_dim: 8, denoiser: [16], step_dim: 8, mlp: [16], train_steps: 5, inference_steps: 5}
            train: {epochs: 1, batch_size: 256, learning_rate: 0.005, seed: 5, eval_batch_size: 1000}
            """);
        return TrainAndExport("cdp", root, experiment);
    }

    static Trained TrainAndExport(string name, string root, string experimentPath)
    {
        var exp = Experiment.Load(experimentPath);
        var data = DatasetLoader.Load(exp.Data, root, Path.Combine(root, "cache-" + name)).Dataset;
        var run = Path.Combine(root, "runs", name);
        new ModelTrainer(exp, data, run, TextWriter.Null).Run(resume: false);
        var bundle = Path.Combine(root, "bundles", name);
        BundleExporter.Export(run, bundle, root, Path.Combine(root, "cache-" + name));
        return new Trained(data, bundle);
    }

    /// <summary>A fresh folder under the fixture's root (removed with it).</summary>
    public string NewDir(string prefix)
    {
        var dir = Path.Combine(planted.Root, prefix + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public void Dispose() => planted.Dispose();
}

[CollectionDefinition(Name)]
public sealed class ModelFamilyCollection : ICollectionFixture<ModelFamilyFixture>
{
    public const string Name = "model families";
}
