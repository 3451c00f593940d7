using System.Text.Json;
using SharpCtr.Data.Raw;

namespace SharpCtr.Data.Readers;

/// <summary>
/// Per-user sequences `{"user": ["item", ...], ...}` in chronological order (the layout many
/// generative-recommendation repositories ship); every entry is an implicit positive whose
/// chronological key is its position. An optional item side file (JSON lines with `item_id`
/// and attributes, strings or lists) gives item attributes.
/// </summary>
public static class SequenceJsonReader
{
    public static RawData Read(string path, string? itemsPath = null)
    {
        var raw = new RawData();
        raw.SourceFiles.Add(path);
        using (var s = File.OpenRead(path))
        {
            if (s.Length == 0) throw new DataFormatException(path, 0, "(file)", "empty file");
            JsonDocument doc;
            try { doc = JsonDocument.Parse(s); }
            catch (JsonException e) { throw new DataFormatException(path, (e.LineNumber ?? 0) + 1, "(file)", "malformed JSON", e.Message); }
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new DataFormatException(path, 1, "(file)", "expected an object {user: [items]}");
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.Array) throw new DataFormatException(path, 0, p.Name, "expected a list of items");
                    int user = raw.Users.GetOrAdd(p.Name);
                    long pos = 0;
                    foreach (var item in Json.Strings(p.Value))
                        raw.AddRow(user, raw.Items.GetOrAdd(item), 1f, pos++, -1);
                }
            }
        }
        if (itemsPath == null) return raw;
        raw.SourceFiles.Add(itemsPath);
        using var r = new LineReader(itemsPath);
        string? line;
        while ((line = r.Next()) != null)
        {
            using var d = Json.ParseLine(r, line);
            var o = d.RootElement;
            int item = raw.Items.GetOrAdd(Json.String(r, o, "item_id"));
            foreach (var p in o.EnumerateObject())
                if (p.Name != "item_id") raw.ItemAttributes.Set(item, p.Name, Json.Strings(p.Value));
        }
        return raw;
    }
}
