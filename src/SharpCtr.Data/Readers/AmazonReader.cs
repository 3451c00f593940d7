using System.Text.Json;
using SharpCtr.Data.Raw;

namespace SharpCtr.Data.Readers;

/// <summary>
/// Amazon reviews + metadata, JSON lines, gzip or plain. 2023 layout: user_id, parent_asin,
/// rating, timestamp (milliseconds); 2014/2018 layout: reviewerID, asin, overall,
/// unixReviewTime (seconds). Metadata gives item attributes title, store, category_path (the
/// category list; nested lists of 2014 flattened), category (its most specific entry) and
/// query (the lower-cased words of the category path, the usual product-search construction).
/// </summary>
public static class AmazonReader
{
    public static RawData Read(string reviewsPath, string? metaPath, bool skipBadLines = false)
    {
        var raw = new RawData();
        using (var r = new LineReader(reviewsPath, skipBadLines ? raw : null))
        {
            string? line;
            while ((line = r.Next()) != null)
            {
                try
                {
                    using var doc = Json.ParseLine(r, line);
                    var o = doc.RootElement;
                    var user = Json.String(r, o, "user_id", "reviewerID");
                    var item = Json.String(r, o, "parent_asin", "asin");
                    float rating = (float)Json.Number(r, o, "rating", "overall");
                    long ts;
                    if (Json.Find(o, "unixReviewTime") != null) ts = (long)Json.Number(r, o, "unixReviewTime");
                    else ts = (long)Json.Number(r, o, "timestamp") / 1000; // 2023: milliseconds
                    raw.AddRow(raw.Users.GetOrAdd(user), raw.Items.GetOrAdd(item), rating, ts, ts);
                }
                catch (DataFormatException e) when (r.Skip(e)) { }
            }
        }
        raw.SourceFiles.Add(reviewsPath);
        if (metaPath == null) return raw;
        raw.SourceFiles.Add(metaPath);
        using (var r = new LineReader(metaPath, skipBadLines ? raw : null))
        {
            string? line;
            while ((line = r.Next()) != null)
            {
                try
                {
                    using var doc = Json.ParseLine(r, line);
                    var o = doc.RootElement;
                    int item = raw.Items.Find(Json.String(r, o, "parent_asin", "asin"));
                    if (item < 0) continue; // metadata of an item nobody reviewed
                    if (Json.Find(o, "title") is { } title && title.ValueKind == JsonValueKind.String) raw.ItemAttributes.Set(item, "title", title.GetString()!);
                    if (Json.Find(o, "store", "brand") is { } store && store.ValueKind == JsonValueKind.String) raw.ItemAttributes.Set(item, "store", store.GetString()!);
                    var path = Json.Find(o, "categories", "category") is { } c ? Json.Strings(c) : Array.Empty<string>();
                    if (path.Length == 0 && Json.Find(o, "main_category") is { } mc && mc.ValueKind == JsonValueKind.String) path = new[] { mc.GetString()! };
                    if (path.Length > 0)
                    {
                        raw.ItemAttributes.Set(item, "category_path", path);
                        raw.ItemAttributes.Set(item, "category", path[^1]);
                        raw.ItemAttributes.Set(item, "query", QueryTokens.FromText(string.Join(' ', path)));
                    }
                }
                catch (DataFormatException e) when (r.Skip(e)) { }
            }
        }
        return raw;
    }
}
