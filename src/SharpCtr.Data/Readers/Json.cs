using System.Globalization;
using System.Text.Json;
using SharpCtr.Data.Raw;

namespace SharpCtr.Data.Readers;

/// <summary>Small helpers for JSON-lines readers: typed property access with file/line/field errors.</summary>
internal static class Json
{
    public static JsonDocument ParseLine(LineReader r, string line)
    {
        try { return JsonDocument.Parse(line); }
        catch (JsonException e) { throw r.Error("(line)", "malformed JSON", e.Message); }
    }

    public static JsonElement? Find(JsonElement obj, params string[] names)
    {
        foreach (var n in names)
            if (obj.TryGetProperty(n, out var v) && v.ValueKind != JsonValueKind.Null) return v;
        return null;
    }

    public static string String(LineReader r, JsonElement obj, params string[] names)
    {
        var v = Find(obj, names) ?? throw r.Error(names[0], "missing");
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString()!,
            JsonValueKind.Number => v.GetRawText(),
            _ => throw r.Error(names[0], "must be a string or number", v.ValueKind.ToString()),
        };
    }

    public static double Number(LineReader r, JsonElement obj, params string[] names)
    {
        var v = Find(obj, names) ?? throw r.Error(names[0], "missing");
        double d;
        if (v.ValueKind == JsonValueKind.Number) d = v.GetDouble();
        else if (v.ValueKind == JsonValueKind.String && double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d)) { }
        else throw r.Error(names[0], "not a number", v.GetRawText());
        if (!double.IsFinite(d)) throw r.Error(names[0], "NaN or infinite", v.GetRawText());
        return d;
    }

    /// <summary>A string, a number, or a list of them, as strings; nested lists are flattened.</summary>
    public static string[] Strings(JsonElement v)
    {
        var list = new List<string>();
        Collect(v, list);
        return list.ToArray();

        static void Collect(JsonElement e, List<string> into)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.String: into.Add(e.GetString()!); break;
                case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False: into.Add(e.GetRawText()); break;
                case JsonValueKind.Array: foreach (var c in e.EnumerateArray()) Collect(c, into); break;
            }
        }
    }
}
