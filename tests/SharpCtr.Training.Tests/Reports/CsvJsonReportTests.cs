using System.Text.Json;
using SharpCtr.Training.Reports;

namespace SharpCtr.Training.Tests.Reports;

public class CsvJsonReportTests
{
    [Fact]
    public void Csv_has_one_row_per_model_with_full_precision()
    {
        var lines = CsvReport.Render(ReportTestData.ThreeModels()).TrimEnd('\n').Split('\n');
        Assert.Equal("model,seeds,auc_mean,auc_std,logloss_mean,logloss_std,relaimpr_percent,p_value", lines[0]);
        Assert.Equal(4, lines.Length);
        var lr = lines[1].Split(',');
        Assert.Equal("LR", lr[0]);
        Assert.Equal(0.801, double.Parse(lr[2], System.Globalization.CultureInfo.InvariantCulture), 1e-12);
        Assert.Equal("", lr[6]); // no RelaImpr of the base against itself
        var din = lines[3].Split(',');
        Assert.Equal("", din[7]); // no p-value of the reference against itself
        Assert.Equal(19.933554817275745, double.Parse(din[6], System.Globalization.CultureInfo.InvariantCulture), 1e-9);
    }

    [Fact]
    public void Json_round_trips_values_and_writes_atomically()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sharpctr-report-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = Path.Combine(dir, "results.json");
            JsonReport.Write(path, ReportTestData.ThreeModels());
            Assert.Single(Directory.GetFiles(dir)); // no temporary file left behind
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            Assert.Equal("LR", root.GetProperty("base").GetString());
            var deepfm = root.GetProperty("models")[1];
            Assert.Equal("DeepFM", deepfm.GetProperty("model").GetString());
            var auc = deepfm.GetProperty("metrics").GetProperty("auc");
            Assert.Equal(0.852, auc.GetProperty("mean").GetDouble(), 1e-12);
            Assert.Equal(0.002, auc.GetProperty("std").GetDouble(), 1e-12);
            Assert.Equal(0.854, auc.GetProperty("values")[2].GetDouble());
            Assert.Equal(0.004089996689521373, deepfm.GetProperty("p_value").GetDouble(), 1e-9);
            Assert.Equal(JsonValueKind.Null, root.GetProperty("models")[2].GetProperty("p_value").ValueKind);

            CsvReport.Write(Path.Combine(dir, "results.csv"), ReportTestData.ThreeModels());
            Assert.StartsWith("model,seeds,", File.ReadAllText(Path.Combine(dir, "results.csv")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
