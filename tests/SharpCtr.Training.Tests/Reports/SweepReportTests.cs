using SharpCtr.Training.Reports;

namespace SharpCtr.Training.Tests.Reports;

public sealed class SweepReportTests : IDisposable
{
    readonly string root = Path.Combine(Path.GetTempPath(), "sharpctr-sweep-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { try { Directory.Delete(root, true); } catch (IOException) { } }

    string Folder(string name, double[] auc)
    {
        var dir = Path.Combine(root, name);
        Directory.CreateDirectory(dir);
        var table = new ResultsTable
        {
            Metrics = [MetricColumn.Auc, MetricColumn.LogLoss],
            Models = [new ModelRuns("genci", Enumerable.Range(1, auc.Length).ToList(), new Dictionary<string, double[]> { ["auc"] = auc, ["logloss"] = auc.Select(a => 1 - a).ToArray() })],
        };
        JsonReport.Write(Path.Combine(dir, "results.json"), table);
        return dir;
    }

    [Fact]
    public void EachValueReadsItsFoldersMeanAndSpread()
    {
        var sweep = SweepReport.Load([("0.1", Folder("a", [0.80, 0.82])), ("1", Folder("b", [0.85, 0.85])), ("5", Folder("c", [0.84]))], "genci");
        Assert.Equal(["0.1", "1", "5"], sweep.Select(p => p.X));
        Assert.Equal(0.81, sweep[0].Metrics["auc"].Mean, 1e-12);
        Assert.Equal(Math.Sqrt(0.0002), sweep[0].Metrics["auc"].Std, 1e-12);
        Assert.True(double.IsNaN(sweep[2].Metrics["auc"].Std));   // one seed: no spread
        var md = SweepReport.Markdown(sweep, "η");
        Assert.Contains("| 0.1 | 2 | 0.8100 ± 0.0141 | 0.1900 ± 0.0141 | — |", md);
        Assert.Contains("| 5 | 1 | 0.8400 | 0.1600 | — |", md);
        var svg = SweepReport.Chart(sweep, "auc", "AUC", "η", "AUC against η").Render();
        var bars = svg[svg.IndexOf("<g class=\"series\"", StringComparison.Ordinal)..];
        Assert.Equal(3, bars[..bars.IndexOf("</g>", StringComparison.Ordinal)].Split("<rect").Length - 1);   // one bar per value
        Assert.Contains(">0.1<", svg);
    }

    [Fact]
    public void AMissingFolderOrModelIsNamed()
    {
        var e = Assert.Throws<FileNotFoundException>(() => SweepReport.Load([("2", Path.Combine(root, "none"))], null));
        Assert.Contains("sweep value 2", e.Message);
        var m = Assert.Throws<SharpCtr.Data.Config.ConfigException>(() => SweepReport.Load([("1", Folder("d", [0.8]))], "din"));
        Assert.Contains("no model 'din' (has: genci)", m.Message);
    }
}
