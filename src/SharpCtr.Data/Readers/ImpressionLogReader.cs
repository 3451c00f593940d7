using System.Text.Json;
using SharpCtr.Data.Raw;

namespace SharpCtr.Data.Readers;

/// <summary>Ground truth of one request (from truth.jsonl): for evaluation only, never a model input.</summary>
public sealed record RequestTruth(int RequestId, string? TrueIntent, string[] NoisyClicks);

/// <summary>
/// Search impression logs: a folder with requests.jsonl (one request per line, chronological:
/// request_id, user_id, timestamp, query, context{…}, scene{…}, items[{item_id, position,
/// clicked}]), items.jsonl (item_id, category, optional category_path, title) and optionally
/// truth.jsonl. One row per shown item (rating = clicked); the rows of a request share its
/// event (request_id), so none of them sees another in its history.
/// Row attributes: query (tokens), position, context.&lt;key&gt;, scene.&lt;key&gt;.
/// </summary>
public static class ImpressionLogReader
{
    public sealed record Log(RawData Raw, Dictionary<int, RequestTruth> Truth);

    public static Log Read(string dir, bool skipBadLines = false)
    {
        var raw = new RawData();
        var itemsPath = Path.Combine(dir, "items.jsonl");
        raw.SourceFiles.Add(itemsPath);
        using (var r = new LineReader(itemsPath, skipBadLines ? raw : null))
        {
            string? line;
            while ((line = r.Next()) != null)
            {
                try
                {
                    using var d = Json.ParseLine(r, line);
                    var o = d.RootElement;
                    int item = raw.Items.GetOrAdd(Json.String(r, o, "item_id"));
                    raw.ItemAttributes.Set(item, "category", Json.String(r, o, "category"));
                    if (Json.Find(o, "category_path") is { } cp) raw.ItemAttributes.Set(item, "category_path", Json.Strings(cp));
                    if (Json.Find(o, "title") is { } t && t.ValueKind == JsonValueKind.String) raw.ItemAttributes.Set(item, "title", t.GetString()!);
                }
                catch (DataFormatException e) when (r.Skip(e)) { }
            }
        }

        var requestsPath = Path.Combine(dir, "requests.jsonl");
        raw.SourceFiles.Add(requestsPath);
        using (var r = new LineReader(requestsPath, skipBadLines ? raw : null))
        {
            string? line;
            long order = 0;
            var seen = new HashSet<int>();
            while ((line = r.Next()) != null)
            {
                try
                {
                    using var d = Json.ParseLine(r, line);
                    var o = d.RootElement;
                    double rid = Json.Number(r, o, "request_id");
                    if (rid != Math.Floor(rid) || rid < 0 || rid > int.MaxValue) throw r.Error("request_id", "must be a non-negative integer");
                    int requestId = (int)rid;
                    if (!seen.Add(requestId)) throw r.Error("request_id", "duplicate", requestId.ToString());
                    int user = raw.Users.GetOrAdd(Json.String(r, o, "user_id"));
                    long ts = (long)Json.Number(r, o, "timestamp");
                    string[] query = Json.Find(o, "query") is { ValueKind: JsonValueKind.String } q ? QueryTokens.FromText(q.GetString()!) : Array.Empty<string>();
                    var attrs = new List<(string, string)>();
                    foreach (var group in new[] { "context", "scene" })
                        if (Json.Find(o, group) is { } g)
                        {
                            if (g.ValueKind != JsonValueKind.Object) throw r.Error(group, "must be an object");
                            foreach (var p in g.EnumerateObject())
                            {
                                var vals = Json.Strings(p.Value);
                                attrs.Add(($"{group}.{p.Name}", vals.Length > 0 ? vals[0] : ""));
                            }
                        }
                    var items = Json.Find(o, "items") ?? throw r.Error("items", "missing");
                    if (items.ValueKind != JsonValueKind.Array) throw r.Error("items", "must be a list");
                    // validate the whole request before adding any row, so a skipped line leaves nothing behind
                    var shown = new List<(int Item, string Position, float Clicked)>();
                    foreach (var it in items.EnumerateArray())
                    {
                        var id = Json.String(r, it, "item_id");
                        int item = raw.Items.Find(id);
                        if (item < 0) throw r.Error("items.item_id", "not in items.jsonl", id);
                        double clicked = Json.Number(r, it, "clicked");
                        if (clicked is not (0 or 1)) throw r.Error("items.clicked", "must be 0 or 1", clicked.ToString(System.Globalization.CultureInfo.InvariantCulture));
                        var pos = Json.Find(it, "position") is { } pe ? pe.GetRawText() : (shown.Count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                        shown.Add((item, pos, (float)clicked));
                    }
                    foreach (var (item, pos, clicked) in shown)
                    {
                        int row = raw.AddRow(user, item, clicked, order, ts, requestId);
                        raw.RowAttributes.Set(row, "query", (string[])query.Clone());
                        raw.RowAttributes.Set(row, "position", pos);
                        foreach (var (k, v) in attrs) raw.RowAttributes.Set(row, k, v);
                    }
                    order++;
                }
                catch (DataFormatException e) when (r.Skip(e)) { }
            }
        }

        var truth = new Dictionary<int, RequestTruth>();
        var truthPath = Path.Combine(dir, "truth.jsonl");
        if (File.Exists(truthPath))
        {
            using var r = new LineReader(truthPath);
            string? line;
            while ((line = r.Next()) != null)
            {
                using var d = Json.ParseLine(r, line);
                var o = d.RootElement;
                int id = (int)Json.Number(r, o, "request_id");
                string? intent = Json.Find(o, "true_intent") is { } ti ? Json.Strings(ti).FirstOrDefault() : null;
                var noisy = Json.Find(o, "noisy_clicks") is { } nc ? Json.Strings(nc) : Array.Empty<string>();
                truth[id] = new RequestTruth(id, intent, noisy);
            }
        }
        return new Log(raw, truth);
    }
}
