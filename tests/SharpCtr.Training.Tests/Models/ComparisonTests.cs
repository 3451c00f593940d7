using SharpCtr.Training.Experiments;

namespace SharpCtr.Training.Tests.Models;

public sealed class ComparisonTests(PlantedDataFixture fixture) : IClassFixture<PlantedDataFixture>
{
    readonly PlantedData data = fixture.Data;

    [Fact]
    public void ComparesExperimentsOverSeedsAndSkipsFinishedRuns()
    {
        var lr = Path.Combine(data.Root, "lr.yaml");
        var fm = Path.Combine(data.Root, "fm.yaml");
        File.WriteAllText(lr, "name: lr\ndata: {include: data.yaml}\nmodel: {name: lr}\ntrain: {epochs: 1, batch_size: 256, learning_rate: 0.01, seed: 7}\n");
        File.WriteAllText(fm, "name: fm\ndata: {include: data.yaml}\nmodel: {name: fm, embedding_dim: 4}\ntrain: {epochs: 1, batch_size: 256, learning_rate: 0.01, seed: 7}\n");
        var outDir = Path.Combine(data.Root, "compare");
        var table = new Comparison([lr, fm], seeds: 2, outDir, data.Root, [], TextWriter.Null).Run("lr", "fm");

        Assert.Equal(["lr", "fm"], table.Models.Select(m => m.Model));
        Assert.All(table.Models, m => Assert.Equal([7, 8], m.Seeds));
        Assert.All(table.Models, m => Assert.All(m.ValuesOf("auc"), v => Assert.InRange(v, 0.5, 1.0)));
        var md = File.ReadAllText(Path.Combine(outDir, "results.md"));
        Assert.Contains("RelaImpr", md);
        Assert.Contains("| fm", md);
        Assert.True(File.Exists(Path.Combine(outDir, "results.csv")));
        Assert.True(File.Exists(Path.Combine(outDir, "results.json")));

        // A second run reuses every finished run's metrics.json instead of training again.
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(outDir, "fm", "seed8", "metrics.json"));
        var again = new Comparison([lr, fm], seeds: 2, outDir, data.Root, [], TextWriter.Null).Run("lr", "fm");
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(outDir, "fm", "seed8", "metrics.json")));
        Assert.Equal(table.Models[1].ValuesOf("auc"), again.Models[1].ValuesOf("auc"));
    }
}
