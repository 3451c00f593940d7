using System.Globalization;
using System.Text;
using SharpCtr.Tensors.IO;

namespace SharpCtr.Training.Reports;

/// <summary>
/// The results table as CSV, one row per model: seeds, then mean and std per metric, then
/// RelaImpr and p-value (empty when not defined). Full precision, for plotting and diffing.
/// </summary>
public static class CsvReport
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Render(ResultsTable table)
    {
        var sb = new StringBuilder("model,seeds");
        foreach (var m in table.Metrics) sb.Append(',').Append(m.Key).Append("_mean,").Append(m.Key).Append("_std");
        sb.Append(",relaimpr_percent,p_value\n");
        foreach (var model in table.Models)
        {
            sb.Append(Field(model.Model)).Append(',').Append(model.Seeds.Count.ToString(Inv));
            foreach (var m in table.Metrics)
            {
                var (mean, std) = table.Summary(model, m.Key);
                sb.Append(',').Append(Number(mean)).Append(',').Append(Number(std));
            }
            double rela = table.BaseModel != null && model.Model != table.BaseModel ? table.RelaImprOf(model) : double.NaN;
            double p = table.SignificanceOf(model)?.PValue ?? double.NaN;
            sb.Append(',').Append(Number(rela)).Append(',').Append(Number(p)).Append('\n');
        }
        return sb.ToString();
    }

    public static void Write(string path, ResultsTable table) => AtomicFile.WriteAllText(path, Render(table));

    static string Number(double x) => double.IsNaN(x) ? "" : x.ToString("R", Inv);

    /// <summary>Quotes a field when it holds a comma, quote or newline (RFC 4180).</summary>
    internal static string Field(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) < 0 ? s : "\"" + s.Replace("\"", "\"\"") + "\"";
}
