using System.Globalization;
using System.Text;

namespace SharpCtr.Training.Reports;

/// <summary>
/// Renders a <see cref="ResultsTable"/> as a GitHub Markdown table: one row per model, mean ±
/// std per metric with the best mean in bold, RelaImpr and p-value columns, and a note saying
/// how many seeds and which tests stand behind the numbers.
/// </summary>
public static class MarkdownTable
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Render(ResultsTable table)
    {
        var best = table.BestModelPerMetric();
        var sb = new StringBuilder();
        sb.Append("| Model | Seeds |");
        foreach (var m in table.Metrics) sb.Append(' ').Append(m.Header).Append(" |");
        if (table.BaseModel != null) sb.Append(" RelaImpr |");
        if (table.ReferenceModel != null) sb.Append(" p |");
        sb.Append('\n').Append("|:---|---:|");
        foreach (var _ in table.Metrics) sb.Append("---:|");
        if (table.BaseModel != null) sb.Append("---:|");
        if (table.ReferenceModel != null) sb.Append("---:|");
        sb.Append('\n');

        for (int i = 0; i < table.Models.Count; i++)
        {
            var model = table.Models[i];
            sb.Append("| ").Append(Cell(model.Model)).Append(" | ").Append(model.Seeds.Count.ToString(Inv)).Append(" |");
            for (int m = 0; m < table.Metrics.Count; m++)
            {
                var (mean, std) = table.Summary(model, table.Metrics[m].Key);
                string cell = FormatMeanStd(mean, std, table.Metrics[m].Decimals);
                if (table.IsBest(i, m, best)) cell = "**" + cell + "**";
                sb.Append(' ').Append(cell).Append(" |");
            }
            if (table.BaseModel != null)
            {
                sb.Append(' ').Append(model.Model == table.BaseModel ? "—" : FormatPercent(table.RelaImprOf(model))).Append(" |");
            }
            if (table.ReferenceModel != null)
            {
                var t = table.SignificanceOf(model);
                sb.Append(' ').Append(t is { } r ? FormatP(r.PValue) : "—").Append(" |");
            }
            sb.Append('\n');
        }

        sb.Append('\n').Append(Note(table)).Append('\n');
        return sb.ToString();
    }

    static string Note(ResultsTable table)
    {
        var sb = new StringBuilder("Mean ± sample standard deviation over seeds; best mean per column in bold.");
        if (table.BaseModel != null)
            sb.Append(" RelaImpr on mean ").Append(Header(table, table.RelaImprMetric)).Append(" vs ").Append(table.BaseModel).Append('.');
        if (table.ReferenceModel != null)
            sb.Append(" p: two-sided paired t-test on ").Append(Header(table, table.SignificanceMetric))
              .Append(" across shared seeds vs ").Append(table.ReferenceModel).Append('.');
        return sb.ToString();
    }

    static string Header(ResultsTable table, string key)
    {
        foreach (var m in table.Metrics) if (m.Key == key) return m.Header;
        return key;
    }

    /// <summary>A literal '|' would end the cell.</summary>
    static string Cell(string s) => s.Replace("|", "\\|");

    public static string FormatMeanStd(double mean, double std, int decimals)
    {
        if (double.IsNaN(mean)) return "—";
        string f = "F" + decimals.ToString(Inv);
        return double.IsNaN(std) ? mean.ToString(f, Inv) : mean.ToString(f, Inv) + " ± " + std.ToString(f, Inv);
    }

    public static string FormatPercent(double percent) =>
        double.IsNaN(percent) ? "—" : (percent >= 0 ? "+" : "") + percent.ToString("F2", Inv) + " %";

    public static string FormatP(double p) =>
        double.IsNaN(p) ? "—" : p < 1e-4 ? "<0.0001" : p.ToString("F4", Inv);
}
