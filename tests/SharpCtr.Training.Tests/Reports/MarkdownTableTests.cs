using SharpCtr.Training.Reports;

namespace SharpCtr.Training.Tests.Reports;

public class MarkdownTableTests
{
    [Fact]
    public void Golden_three_models()
    {
        // LR     AUC mean 0.8010, sample std 0.0010; LogLoss 0.4600 ± 0.0100
        // DeepFM AUC 0.8520 ± 0.0020; RelaImpr (0.352 / 0.301 − 1)·100 = 16.94 %
        //        vs DIN: d = −0.010, −0.009, −0.008 → t = −0.009 / (0.001/√3) = −15.588, df 2,
        //        p = 1 − 15.588/√(2 + 15.588²) = 0.00409 (scipy ttest_rel: 0.0040900)
        // DIN    AUC 0.8610 ± 0.0010 (best), LogLoss 0.4000 ± 0.0200 (best, lowest);
        //        RelaImpr (0.361 / 0.301 − 1)·100 = 19.93 %
        // LR vs DIN: every d = −0.06 → |t| huge, p < 0.0001
        const string expected =
            "| Model | Seeds | AUC | LogLoss | RelaImpr | p |\n" +
            "|:---|---:|---:|---:|---:|---:|\n" +
            "| LR | 3 | 0.8010 ± 0.0010 | 0.4600 ± 0.0100 | — | <0.0001 |\n" +
            "| DeepFM | 3 | 0.8520 ± 0.0020 | 0.4100 ± 0.0100 | +16.94 % | 0.0041 |\n" +
            "| DIN | 3 | **0.8610 ± 0.0010** | **0.4000 ± 0.0200** | +19.93 % | — |\n" +
            "\n" +
            "Mean ± sample standard deviation over seeds; best mean per column in bold. RelaImpr on mean AUC vs LR. " +
            "p: two-sided paired t-test on AUC across shared seeds vs DIN.\n";
        Assert.Equal(expected, MarkdownTable.Render(ReportTestData.ThreeModels()));
    }

    [Fact]
    public void Without_base_or_reference_the_columns_are_absent_and_one_seed_has_no_std()
    {
        var table = new ResultsTable
        {
            Metrics = [MetricColumn.Auc],
            Models =
            [
                new ModelRuns("FM", [7], new Dictionary<string, double[]> { ["auc"] = [0.81234] }),
                new ModelRuns("LR", [7], new Dictionary<string, double[]> { ["auc"] = [0.81234] }),
            ],
        };
        const string expected =
            "| Model | Seeds | AUC |\n" +
            "|:---|---:|---:|\n" +
            "| FM | 1 | **0.8123** |\n" +
            "| LR | 1 | **0.8123** |\n" +
            "\n" +
            "Mean ± sample standard deviation over seeds; best mean per column in bold.\n";
        Assert.Equal(expected, MarkdownTable.Render(table));
    }

    [Fact]
    public void Unknown_base_model_is_a_clear_error()
    {
        var t = ReportTestData.ThreeModels();
        var bad = new ResultsTable { Metrics = t.Metrics, Models = t.Models, BaseModel = "XGB" };
        var e = Assert.Throws<ArgumentException>(() => MarkdownTable.Render(bad));
        Assert.Contains("XGB", e.Message);
    }

    [Fact]
    public void Seeds_pair_by_value_not_position()
    {
        // B ran seeds 3, 1, 2; pairing by seed gives d = 0.01 each → p tiny. Pairing by position
        // would give d = 0.03, −0.01, 0.01 → p ≈ 0.42.
        var table = new ResultsTable
        {
            Metrics = [MetricColumn.Auc],
            ReferenceModel = "B",
            Models =
            [
                new ModelRuns("A", [1, 2, 3], new Dictionary<string, double[]> { ["auc"] = [0.71, 0.72, 0.73] }),
                new ModelRuns("B", [3, 1, 2], new Dictionary<string, double[]> { ["auc"] = [0.72, 0.70, 0.71] }),
            ],
        };
        var p = table.SignificanceOf(table.Models[0])!.Value.PValue;
        Assert.True(p < 0.001, $"p = {p}");
    }
}

public class MarkdownEscapingTests
{
    [Fact]
    public void Pipe_in_a_model_name_is_escaped()
    {
        var table = new ResultsTable
        {
            Metrics = [MetricColumn.Auc],
            Models = [new ModelRuns("DIN|v2", [1], new Dictionary<string, double[]> { ["auc"] = [0.8] })],
        };
        Assert.Contains("| DIN\\|v2 | 1 |", MarkdownTable.Render(table));
    }
}
