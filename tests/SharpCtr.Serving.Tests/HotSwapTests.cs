using System.Collections.Concurrent;
using System.Net;
using SharpCtr.Serving.Bundles;
using SharpCtr.Serving.Scoring;

namespace SharpCtr.Serving.Tests;

[Collection(ServingCollection.Name)]
public sealed class HotSwapTests(ServingFixture fx)
{
    static readonly string[] Items = ["1", "2", "3", "4", "5", "6", "7", "8"];
    static readonly string[] History = ["9", "10", "11"];

    /// <summary>What a bundle must answer for the test request, computed without the service.</summary>
    static float[] Expected(string bundleDir)
    {
        var b = ModelBundle.Load(bundleDir);
        var none = new Dictionary<string, string[]>();
        var input = new ScoreInput { UserId = "5", Context = new(), Candidates = Items.Select(i => new ItemInput(i, none)).ToList(), History = History.Select(i => new ItemInput(i, none)).ToList() };
        return Scorer.Score(b, b.Encoder.Encode(input, 0));
    }

    [Fact]
    public async Task ReloadUnderConcurrentRequestsNeverFailsOrMixesBundles()
    {
        var root = fx.NewDir("root");
        ServingFixture.CopyDir(fx.BundleV1, Path.Combine(root, "v1"));
        var v1 = ModelBundle.Load(fx.BundleV1).Version;
        var v2 = ModelBundle.Load(fx.BundleV2).Version;
        Assert.NotEqual(v1, v2);
        var expected = new Dictionary<string, float[]> { [v1] = Expected(fx.BundleV1), [v2] = Expected(fx.BundleV2) };
        Assert.NotEqual(expected[v1], expected[v2]);

        await using var service = await fx.StartAsync(root);
        var seen = new ConcurrentBag<(string Version, float[] Scores)>();
        var failures = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var (version, scores, _) = await SampleRequests.ScoreAsync(service.Client, SampleRequests.Body("5", Items, History));
                    seen.Add((version, scores));
                }
                catch (Exception e) { failures.Add(e.Message); }
            }
        })).ToArray();

        await Task.Delay(100);
        ServingFixture.CopyDir(fx.BundleV2, Path.Combine(root, "v2"));   // a new bundle appears under the root
        for (int k = 0; k < 6; k++)
        {
            var response = await service.Client.PostAsync(k % 2 == 1 ? "/v1/admin/reload" : "/v1/admin/reload?bundle=v1", null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Task.Delay(60);
        }
        await Task.Delay(60);
        stop.Cancel();
        await Task.WhenAll(clients);

        Assert.Empty(failures);
        Assert.Contains(seen, s => s.Version == v1);
        Assert.Contains(seen, s => s.Version == v2);
        foreach (var (version, scores) in seen)
        {
            Assert.True(expected.ContainsKey(version), $"unknown version {version}");
            for (int i = 0; i < scores.Length; i++) Assert.Equal(expected[version][i], scores[i], 1e-6);   // all scores from the tagged bundle
        }
        var health = await service.Client.GetStringAsync("/healthz");
        Assert.Contains(v2, health);    // the last reload (no name) picked the newest bundle
        Assert.Contains("sharpctr_bundle_reloads_total 6", await service.Client.GetStringAsync("/metrics"));
    }

    [Fact]
    public async Task ABadBundleIsRejectedAndTheOldOneKeepsServing()
    {
        var root = fx.NewDir("root");
        ServingFixture.CopyDir(fx.BundleV1, Path.Combine(root, "v1"));
        var bad = Path.Combine(root, "broken");
        ServingFixture.CopyDir(fx.BundleV2, bad);
        var weights = Path.Combine(bad, ModelBundle.WeightsFile);
        var bytes = File.ReadAllBytes(weights);
        bytes[^1] ^= 0x5a;
        File.WriteAllBytes(weights, bytes);
        // older than v1 (the manifest's own text is not checksummed), so v1 is what the root serves first
        var manifest = Path.Combine(bad, BundleManifest.FileName);
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"2026-", "\"2025-"));
        var v1 = ModelBundle.Load(fx.BundleV1).Version;

        await using var service = await fx.StartAsync(Path.Combine(root, "v1"));   // single-bundle mode first
        Assert.Equal(HttpStatusCode.NotFound, (await service.Client.PostAsync("/v1/admin/reload?bundle=v2", null)).StatusCode);
        await using var rooted = await fx.StartAsync(root);
        var c = rooted.Client;
        Assert.Contains("broken", await c.GetStringAsync("/v1/models"));
        var rejected = await c.PostAsync("/v1/admin/reload?bundle=broken", null);
        Assert.Equal((HttpStatusCode)422, rejected.StatusCode);
        Assert.Contains("SHA-256", await rejected.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await c.PostAsync("/v1/admin/reload?bundle=..%2Fv1", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await c.PostAsync("/v1/admin/reload?bundle=%2Ftmp", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await c.PostAsync("/v1/admin/reload?bundle=v9", null)).StatusCode);
        Assert.Contains(v1, await c.GetStringAsync("/healthz"));
    }
}
