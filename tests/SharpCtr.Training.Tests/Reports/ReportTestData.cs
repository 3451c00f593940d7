using SharpCtr.Training.Reports;

namespace SharpCtr.Training.Tests.Reports;

internal static class ReportTestData
{
    // Values chosen so the summary is checkable by hand (see MarkdownTableTests).
    public static ResultsTable ThreeModels() => new()
    {
        Metrics = [MetricColumn.Auc, MetricColumn.LogLoss],
        BaseModel = "LR",
        ReferenceModel = "DIN",
        Models =
        [
            Runs("LR", [0.8000, 0.8010, 0.8020], [0.45, 0.46, 0.47]),
            Runs("DeepFM", [0.8500, 0.8520, 0.8540], [0.40, 0.41, 0.42]),
            Runs("DIN", [0.8600, 0.8610, 0.8620], [0.38, 0.40, 0.42]),
        ],
    };

    static ModelRuns Runs(string name, double[] auc, double[] logloss) =>
        new(name, [1, 2, 3], new Dictionary<string, double[]> { ["auc"] = auc, ["logloss"] = logloss });
}
