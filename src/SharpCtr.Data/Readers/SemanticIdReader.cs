using System.Globalization;
using System.Text.Json;
using SharpCtr.Data.Raw;

namespace SharpCtr.Data.Readers;

/// <summary>
/// Semantic IDs per item: JSON `{item: [c1, c2, …]}` with integer codes, or the token style
/// `{item: "&lt;a_12&gt;&lt;b_3&gt;…"}` (or a list of such tokens), where the number after the last '_'
/// is the code and the position is the level.
/// </summary>
public static class SemanticIdReader
{
    public static Dictionary<string, int[]> Read(string path)
    {
        using var s = File.OpenRead(path);
        if (s.Length == 0) throw new DataFormatException(path, 0, "(file)", "empty file");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(s); }
        catch (JsonException e) { throw new DataFormatException(path, (e.LineNumber ?? 0) + 1, "(file)", "malformed JSON", e.Message); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new DataFormatException(path, 1, "(file)", "expected an object {item: codes}");
            var result = new Dictionary<string, int[]>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                var v = p.Value;
                var codes = new List<int>();
                if (v.ValueKind == JsonValueKind.String) ParseTokens(path, p.Name, v.GetString()!, codes);
                else if (v.ValueKind == JsonValueKind.Array)
                    foreach (var c in v.EnumerateArray())
                    {
                        if (c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var code)) codes.Add(code);
                        else if (c.ValueKind == JsonValueKind.String) ParseTokens(path, p.Name, c.GetString()!, codes);
                        else throw new DataFormatException(path, 0, p.Name, "codes must be integers or <x_N> tokens", c.GetRawText());
                    }
                else throw new DataFormatException(path, 0, p.Name, "expected a list of codes or a token string");
                result[p.Name] = codes.ToArray();
            }
            return result;
        }
    }

    /// <summary>"&lt;a_12&gt;&lt;b_3&gt;" → 12, 3.</summary>
    public static void ParseTokens(string path, string item, string text, List<int> into)
    {
        int i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i])) { i++; continue; }
            int close = text.IndexOf('>', i);
            if (text[i] != '<' || close < 0) throw new DataFormatException(path, 0, item, "expected <name_N> tokens", text);
            var token = text.AsSpan(i + 1, close - i - 1);
            int us = token.LastIndexOf('_');
            if (us < 0 || !int.TryParse(token[(us + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var code))
                throw new DataFormatException(path, 0, item, "token without a numeric code", token.ToString());
            into.Add(code);
            i = close + 1;
        }
    }

    /// <summary>Adds item attributes `semantic_id` (all levels, as "level:code" values) and `semantic_id.L` per level.</summary>
    public static void AttachTo(RawData raw, Dictionary<string, int[]> ids)
    {
        foreach (var (key, codes) in ids)
        {
            int item = raw.Items.Find(key);
            if (item < 0) continue;
            var all = new string[codes.Length];
            for (int l = 0; l < codes.Length; l++)
            {
                all[l] = $"{l}:{codes[l]}";
                raw.ItemAttributes.Set(item, $"semantic_id.{l}", codes[l].ToString(CultureInfo.InvariantCulture));
            }
            raw.ItemAttributes.Set(item, "semantic_id", all);
        }
    }
}
