using System.Globalization;
using System.Text;
using System.Text.Json;
using SharpCtr.Data.Config;

namespace SharpCtr.Training.Reports;

/// <summary>
/// A hyper-parameter sweep (the papers' line figures: layers, μ, η) from one `compare` folder per
/// swept value: each folder's results.json gives the model's mean ± std per metric, and the sweep
/// becomes a Markdown table and one SVG chart per metric, the swept values as evenly spaced
/// categories as in the papers' figures (μ from 0.01 to 5 would crowd a linear axis).
/// </summary>
public static class SweepReport
{
    public sealed record Point(string X, int Seeds, IReadOnlyDictionary<string, (double Mean, double Std)> Metrics);

    /// <summary>The metrics a sweep shows: a table column and a chart each.</summary>
    public static readonly (string Key, string Header)[] Metrics = [("auc", "AUC"), ("logloss", "LogLoss"), ("gauc", "GAUC")];

    /// <param name="points">(value label, compare folder) in plotting order.</param>
    /// <param name="model">The model row to read; null: the folder's only (or first) model.</param>
    public static List<Point> Load(IEnumerable<(string X, string Dir)> points, string? model)
    {
        var list = new List<Point>();
        foreach (var (x, dir) in points)
        {
            var path = Path.Combine(dir, "results.json");
            if (!File.Exists(path)) throw new FileNotFoundException($"sweep value {x}: {path} does not exist (has its `compare` run finished?)", path);
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var models = doc.RootElement.GetProperty("models").EnumerateArray().ToList();
            var row = model is null ? models.FirstOrDefault() : models.FirstOrDefault(m => m.GetProperty("model").GetString() == model);
            if (row.ValueKind == JsonValueKind.Undefined)
                throw new ConfigException($"{path}: no model '{model}' (has: {string.Join(", ", models.Select(m => m.GetProperty("model").GetString()))})");
            var metrics = new Dictionary<string, (double, double)>();
            foreach (var m in row.GetProperty("metrics").EnumerateObject())
                metrics[m.Name] = (Number(m.Value.GetProperty("mean")), Number(m.Value.GetProperty("std")));
            list.Add(new Point(x, row.GetProperty("seeds").GetArrayLength(), metrics));
        }
        return list;
    }

    static double Number(JsonElement e) => e.ValueKind == JsonValueKind.Number ? e.GetDouble() : double.NaN;

    public static string Markdown(IReadOnlyList<Point> points, string xLabel)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("| ").Append(xLabel).Append(" | Seeds |");
        foreach (var (_, h) in Metrics) sb.Append(' ').Append(h).Append(" |");
        sb.Append("\n|---:|---:|").Append(string.Concat(Enumerable.Repeat("---:|", Metrics.Length))).Append('\n');
        foreach (var p in points)
        {
            sb.Append("| ").Append(p.X).Append(" | ").Append(p.Seeds.ToString(inv)).Append(" |");
            foreach (var (key, _) in Metrics)
            {
                if (!p.Metrics.TryGetValue(key, out var v)) { sb.Append(" — |"); continue; }
                sb.Append(' ').Append(v.Mean.ToString("F4", inv));
                if (double.IsFinite(v.Std)) sb.Append(" ± ").Append(v.Std.ToString("F4", inv));
                sb.Append(" |");
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>One metric against the swept value (numeric values label their bars; other labels are numbered in order).</summary>
    public static SvgChart Chart(IReadOnlyList<Point> points, string metric, string header, string xLabel, string title)
    {
        var inv = CultureInfo.InvariantCulture;
        bool numeric = points.All(p => double.TryParse(p.X, NumberStyles.Float, inv, out _));
        var x = points.Select((p, i) => numeric ? double.Parse(p.X, inv) : i + 1).ToArray();
        var y = points.Select(p => p.Metrics.TryGetValue(metric, out var v) ? v.Mean
            : throw new ConfigException($"sweep value {p.X} has no metric '{metric}'")).ToArray();
        return new SvgChart { Title = title, XLabel = xLabel, YLabel = header, Kind = ChartKind.Bar, Series = [new ChartSeries(header, x, y)] };
    }
}
