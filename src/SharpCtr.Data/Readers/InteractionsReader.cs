using System.Text.Json;
using SharpCtr.Data.Raw;

namespace SharpCtr.Data.Readers;

/// <summary>
/// Generic interactions in CSV, TSV (with a header) or JSON lines, with a column mapping for
/// user, item and optionally rating (absent: every row is 1) and timestamp (absent: file order).
/// Every other column becomes a row attribute (`row.&lt;column&gt;`).
/// </summary>
public static class InteractionsReader
{
    public sealed record Columns(string User, string Item, string? Rating, string? Timestamp);

    /// <param name="delimiter">auto (by extension), comma, tab, jsonl, or a single character.</param>
    public static RawData Read(string path, Columns columns, string delimiter = "auto", bool skipBadLines = false)
    {
        var raw = new RawData();
        raw.SourceFiles.Add(path);
        var name = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        if (delimiter == "auto")
            delimiter = name.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) ? "tab"
                : name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? "jsonl" : "comma";
        using var r = new LineReader(path, skipBadLines ? raw : null);
        long fileOrder = 0;
        if (delimiter == "jsonl")
        {
            string? line;
            while ((line = r.Next()) != null)
            {
                try
                {
                    using var doc = Json.ParseLine(r, line);
                    var o = doc.RootElement;
                    if (o.ValueKind != JsonValueKind.Object) throw r.Error("(line)", "expected a JSON object");
                    int user = raw.Users.GetOrAdd(Json.String(r, o, columns.User));
                    int item = raw.Items.GetOrAdd(Json.String(r, o, columns.Item));
                    float rating = columns.Rating != null ? (float)Json.Number(r, o, columns.Rating) : 1f;
                    long ts = columns.Timestamp != null ? (long)Json.Number(r, o, columns.Timestamp) : -1;
                    int row = raw.AddRow(user, item, rating, ts >= 0 ? ts : fileOrder, ts);
                    foreach (var p in o.EnumerateObject())
                        if (p.Name != columns.User && p.Name != columns.Item && p.Name != columns.Rating && p.Name != columns.Timestamp)
                            raw.RowAttributes.Set(row, p.Name, Json.Strings(p.Value));
                    fileOrder++;
                }
                catch (DataFormatException e) when (r.Skip(e)) { }
            }
            return raw;
        }

        char sep = delimiter switch { "comma" => ',', "tab" => '\t', _ when delimiter.Length == 1 => delimiter[0], _ => throw new ArgumentException($"delimiter '{delimiter}': use auto, comma, tab, jsonl or one character") };
        var header = Csv.SplitQuoted(r.Next()!, sep);
        int cu = Index(header, columns.User, r), ci = Index(header, columns.Item, r);
        int cr = columns.Rating != null ? Index(header, columns.Rating, r) : -1;
        int ct = columns.Timestamp != null ? Index(header, columns.Timestamp, r) : -1;
        string? l;
        while ((l = r.Next()) != null)
        {
            try
            {
                var f = Csv.SplitQuoted(l, sep);
                if (f.Count != header.Count) throw r.Error("(line)", $"expected {header.Count} fields", $"got {f.Count}");
                int user = raw.Users.GetOrAdd(f[cu]);
                int item = raw.Items.GetOrAdd(f[ci]);
                float rating = cr >= 0 ? r.ParseFloat(f[cr], header[cr]) : 1f;
                long ts = ct >= 0 ? r.ParseLong(f[ct], header[ct]) : -1;
                int row = raw.AddRow(user, item, rating, ts >= 0 ? ts : fileOrder, ts);
                for (int k = 0; k < f.Count; k++)
                    if (k != cu && k != ci && k != cr && k != ct) raw.RowAttributes.Set(row, header[k], f[k]);
                fileOrder++;
            }
            catch (DataFormatException e) when (r.Skip(e)) { }
        }
        return raw;
    }

    static int Index(List<string> header, string column, LineReader r)
    {
        int i = header.IndexOf(column);
        if (i < 0) throw r.Error(column, "column not in header", string.Join(",", header));
        return i;
    }
}
