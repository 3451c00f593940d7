using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using SharpCtr.Serving.Bundles;
using SharpCtr.Serving.Service;
using SharpCtr.Serving.Store;
using SharpCtr.Training.Experiments;
using SharpCtr.Training.Tests.Models;
using SharpCtr.Training.Trainer;

namespace SharpCtr.Serving.Tests;

/// <summary>
/// Two small DIN models trained on planted data (different seeds, so different weights) and
/// exported as bundles v1 and v2: what every serving test scores with.
/// </summary>
public sealed class ServingFixture : IDisposable
{
    public PlantedData Data { get; } = new(users: 150, movies: 60, perUser: 30);
    public string BundleV1 { get; }
    public string BundleV2 { get; }
    public string RunV1 { get; }

    public ServingFixture()
    {
        RunV1 = Train("v1", seed: 3);
        var runV2 = Train("v2", seed: 4);
        BundleV1 = Path.Combine(Data.Root, "exported", "v1");
        BundleV2 = Path.Combine(Data.Root, "exported", "v2");
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        BundleExporter.Export(RunV1, BundleV1, Data.Root, Path.Combine(Data.Root, "cache"), created: t0);
        BundleExporter.Export(runV2, BundleV2, Data.Root, Path.Combine(Data.Root, "cache"), created: t0.AddHours(1));
    }

    string Train(string name, int seed)
    {
        string[] set = ["model.name=din", "train.epochs=1", $"train.seed={seed}", "model.embedding_dim=8", "model.mlp=[32, 16]", "model.attention_units=[16, 8]"];
        var dir = Path.Combine(Data.Root, "runs", name);
        new ModelTrainer(Experiment.Load(Data.ExperimentPath, set), Data.Dataset, dir, TextWriter.Null).Run(resume: false);
        return dir;
    }

    /// <summary>A fresh folder under the fixture's root.</summary>
    public string NewDir(string prefix)
    {
        var dir = Path.Combine(Data.Root, prefix + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void CopyDir(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }

    /// <summary>The service on the in-memory test server, with a fresh SQLite store.</summary>
    public Task<TestService> StartAsync(string bundlePath, IHistoryStore? store = null, Func<ServingOptions, ServingOptions>? tune = null) =>
        TestService.StartAsync(bundlePath, store ?? new SqliteHistoryStore(Path.Combine(NewDir("store"), "history.db"), keepPerUser: 50), tune);

    public void Dispose() => Data.Dispose();
}

public sealed class TestService(WebApplication app, IHistoryStore store) : IAsyncDisposable
{
    public static async Task<TestService> StartAsync(string bundlePath, IHistoryStore store, Func<ServingOptions, ServingOptions>? tune = null)
    {
        var options = new ServingOptions { BundlePath = bundlePath, MaxCandidates = 200, MaxBodyBytes = 64 * 1024, WarmupRequests = 2 };
        if (tune is not null) options = tune(options);
        var app = ServiceApp.Create(options, store, configure: b => b.WebHost.UseTestServer());
        await app.StartAsync();
        return new TestService(app, store);
    }

    public HttpClient Client { get; } = app.GetTestClient();
    public IHistoryStore Store { get; } = store;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
        Store.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ServingCollection : ICollectionFixture<ServingFixture>
{
    public const string Name = "serving";
}
