using System.Text.Json;
using SharpCtr.Serving.Bundles;

namespace SharpCtr.Serving.Tests;

[Collection(ServingCollection.Name)]
public sealed class BundleTests(ServingFixture fx)
{
    string Copy()
    {
        var dir = Path.Combine(fx.NewDir("copy"), "bundle");
        ServingFixture.CopyDir(fx.BundleV1, dir);
        return dir;
    }

    [Fact]
    public void ExportWritesEveryFileWithItsChecksum()
    {
        var m = BundleManifest.Read(fx.BundleV1);
        Assert.Equal(BundleManifest.CurrentFormat, m.FormatVersion);
        Assert.Equal("din", m.Model);
        Assert.Equal("planted", m.Dataset);
        Assert.Equal(ModelBundle.RequiredFiles.Order(StringComparer.Ordinal), m.Files.Keys);
        foreach (var (name, hash) in m.Files) Assert.Equal(BundleManifest.Sha256(Path.Combine(fx.BundleV1, name)), hash);
        Assert.Equal(BundleManifest.VersionOf(m.Files), m.Version);
        Assert.NotEqual(m.Version, BundleManifest.Read(fx.BundleV2).Version);
        // the item table lets a request name only item_id: genres of the planted movies are there
        var items = EntityTable.Read(fx.BundleV1, ModelBundle.ItemsFile);
        Assert.Contains("genre", items.Attributes);
        Assert.NotEmpty(items.Of("1")["genre"]);
        Assert.Contains("gender", EntityTable.Read(fx.BundleV1, ModelBundle.UsersFile).Attributes);
    }

    [Fact]
    public void ChangedFilesAreRejectedNamingTheFile()
    {
        var dir = Copy();
        File.AppendAllText(Path.Combine(dir, BundleSchema.VocabularyFile), " ");
        var e = Assert.Throws<BundleException>(() => ModelBundle.Load(dir));
        Assert.Contains(BundleSchema.VocabularyFile, e.Message);
        Assert.Contains("SHA-256", e.Message);

        var dir2 = Copy();
        File.Delete(Path.Combine(dir2, ModelBundle.UsersFile));
        Assert.Contains("missing", Assert.Throws<BundleException>(() => ModelBundle.Load(dir2)).Message);
    }

    [Fact]
    public void AnotherFormatVersionIsRejected()
    {
        var dir = Copy();
        var path = Path.Combine(dir, BundleManifest.FileName);
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"format_version\": 1", "\"format_version\": 99"));
        var e = Assert.Throws<BundleException>(() => ModelBundle.Load(dir));
        Assert.Contains("format_version", e.Message);
        Assert.Contains("99", e.Message);

        File.WriteAllText(path, "{ not json");
        Assert.Contains(BundleManifest.FileName, Assert.Throws<BundleException>(() => ModelBundle.Load(dir)).Message);
    }

    [Fact]
    public void ExportRefusesToOverwriteABundle()
    {
        var e = Assert.Throws<BundleException>(() => BundleExporter.Export(fx.RunV1, fx.BundleV1, fx.Data.Root, Path.Combine(fx.Data.Root, "cache")));
        Assert.Contains("not empty", e.Message);
        var notARun = fx.NewDir("empty-run");
        Assert.Contains("config.yaml", Assert.Throws<BundleException>(() => BundleExporter.Export(notARun, Path.Combine(notARun, "out"), fx.Data.Root)).Message);
    }

    [Fact]
    public void LoadedWeightsAreTheRunsBestWeights()
    {
        var bundle = ModelBundle.Load(fx.BundleV1);
        using var best = SharpCtr.Tensors.IO.SafeTensorsFile.Open(Path.Combine(fx.RunV1, "best.safetensors"));
        var (name, p) = bundle.Model.Parameters().First(kv => kv.Name.Contains("mlp"));
        var fromRun = new float[p.Size];
        best.ReadInto(name, fromRun);
        Assert.Equal(fromRun, p.Span.ToArray());
        Assert.False(bundle.Model.Training);
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(File.ReadAllText(Path.Combine(fx.BundleV1, BundleSchema.SchemaFile))).RootElement.ValueKind);
    }
}
