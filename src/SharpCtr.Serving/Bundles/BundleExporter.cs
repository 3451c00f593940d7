using SharpCtr.Data;
using SharpCtr.Tensors.IO;
using SharpCtr.Training.Experiments;

namespace SharpCtr.Serving.Bundles;

/// <summary>
/// `sharpctr export`: a training run folder (config.yaml + best.safetensors) → a bundle folder.
/// The data set is re-read for its vocabularies and the raw user/item attributes the fields use.
/// The bundle is assembled in a temporary sibling folder and renamed into place, so a serving
/// process never sees a half-written bundle.
/// </summary>
public static class BundleExporter
{
    public static BundleManifest Export(string runDir, string outDir, string dataRoot, string? cacheDir = null, DateTimeOffset? created = null)
    {
        var configPath = Path.Combine(runDir, "config.yaml");
        var weightsPath = Path.Combine(runDir, "best.safetensors");
        if (!File.Exists(configPath)) throw new BundleException($"{runDir}: no config.yaml (not a run folder written by `sharpctr train`)");
        if (!File.Exists(weightsPath)) throw new BundleException($"{runDir}: no best.safetensors (the run has not finished an epoch)");
        outDir = Path.GetFullPath(outDir);
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            throw new BundleException($"{outDir}: exists and is not empty; export each bundle version to a new folder");

        var exp = Experiment.Load(configPath);
        var data = DatasetLoader.Load(exp.Data, dataRoot, cacheDir).Dataset;
        var raw = DatasetLoader.ReadRaw(exp.Data, dataRoot);

        var tmp = outDir.TrimEnd(Path.DirectorySeparatorChar) + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(tmp);
        try
        {
            File.Copy(configPath, Path.Combine(tmp, ModelBundle.ConfigFile));
            File.Copy(weightsPath, Path.Combine(tmp, ModelBundle.WeightsFile));
            BundleSchema.Write(tmp, data);
            var sources = data.Fields.Select(f => f.Source).Concat(data.Sequence?.Sides.Select(s => s.Source) ?? []).Append(data.Sequence?.Source ?? "").ToList();
            EntityTable.From(raw.Items, raw.ItemAttributes, AttributesOf(sources, "item.")).Write(Path.Combine(tmp, ModelBundle.ItemsFile));
            EntityTable.From(raw.Users, raw.UserAttributes, AttributesOf(sources, "user.")).Write(Path.Combine(tmp, ModelBundle.UsersFile));

            // the weights must fit the model the bundle will build: fail here, not at serving time
            var model = ModelBundle.BuildModel(exp, BundleSchema.Read(tmp));
            Checkpoint.Load(Path.Combine(tmp, ModelBundle.WeightsFile), ModelBundle.State(model));

            var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var f in ModelBundle.RequiredFiles) files[f] = BundleManifest.Sha256(Path.Combine(tmp, f));
            var manifest = new BundleManifest
            {
                Version = BundleManifest.VersionOf(files), Model = exp.ModelName.ToLowerInvariant(), Experiment = exp.Name,
                Dataset = data.Name, Created = created ?? DateTimeOffset.UtcNow, Files = files,
            };
            AtomicFile.WriteAllText(Path.Combine(tmp, BundleManifest.FileName), System.Text.Json.JsonSerializer.Serialize(manifest, BundleManifest.Json) + "\n");
            if (Directory.Exists(outDir)) Directory.Delete(outDir);
            Directory.CreateDirectory(Path.GetDirectoryName(outDir)!);
            Directory.Move(tmp, outDir);
            return manifest;
        }
        catch
        {
            try { Directory.Delete(tmp, recursive: true); } catch (IOException) { }
            throw;
        }
    }

    static IEnumerable<string> AttributesOf(IEnumerable<string> sources, string prefix) =>
        sources.Where(s => s.StartsWith(prefix, StringComparison.Ordinal)).Select(s => s[prefix.Length..]);
}
