using System.Text.Json;
using SharpCtr.Tensors.IO;

namespace SharpCtr.Training.Reports;

/// <summary>
/// The results table as JSON with every per-seed value, so a later report can be rebuilt from
/// it: {"base", "reference", "relaimpr_metric", "significance_metric", "models": [{"model",
/// "seeds", "metrics": {key: {"mean", "std", "values"}}, "relaimpr_percent", "p_value"}]}.
/// Undefined numbers (std of one seed, p of the reference itself) are null.
/// </summary>
public static class JsonReport
{
    public static void WriteTo(Stream stream, ResultsTable table)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        WriteStringOrNull(w, "base", table.BaseModel);
        WriteStringOrNull(w, "reference", table.ReferenceModel);
        w.WriteString("relaimpr_metric", table.RelaImprMetric);
        w.WriteString("significance_metric", table.SignificanceMetric);
        w.WriteStartArray("models");
        foreach (var model in table.Models)
        {
            w.WriteStartObject();
            w.WriteString("model", model.Model);
            w.WriteStartArray("seeds");
            foreach (var s in model.Seeds) w.WriteNumberValue(s);
            w.WriteEndArray();
            w.WriteStartObject("metrics");
            foreach (var m in table.Metrics)
            {
                var (mean, std) = table.Summary(model, m.Key);
                w.WriteStartObject(m.Key);
                WriteNumberOrNull(w, "mean", mean);
                WriteNumberOrNull(w, "std", std);
                w.WriteStartArray("values");
                foreach (var v in model.ValuesOf(m.Key)) { if (double.IsFinite(v)) w.WriteNumberValue(v); else w.WriteNullValue(); }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
            WriteNumberOrNull(w, "relaimpr_percent",
                table.BaseModel != null && model.Model != table.BaseModel ? table.RelaImprOf(model) : double.NaN);
            WriteNumberOrNull(w, "p_value", table.SignificanceOf(model)?.PValue ?? double.NaN);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static string Render(ResultsTable table)
    {
        using var ms = new MemoryStream();
        WriteTo(ms, table);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    public static void Write(string path, ResultsTable table) => AtomicFile.Write(path, s => WriteTo(s, table));

    static void WriteNumberOrNull(Utf8JsonWriter w, string name, double x)
    {
        if (double.IsFinite(x)) w.WriteNumber(name, x); else w.WriteNull(name);
    }

    static void WriteStringOrNull(Utf8JsonWriter w, string name, string? s)
    {
        if (s != null) w.WriteString(name, s); else w.WriteNull(name);
    }
}
