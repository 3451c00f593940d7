using System.Text.Json;
using SharpCtr.Tensors.IO;

namespace SharpCtr.Data.Synthetic;

/// <summary>
/// Writes a log as three JSONL files (requests.jsonl, items.jsonl, truth.jsonl), each atomically.
/// The output is a pure function of the log: fixed key order, invariant number formatting,
/// weights rounded to 4 decimals, '\n' line ends.
/// </summary>
public static class SearchLogWriter
{
    public const string RequestsFile = "requests.jsonl";
    public const string ItemsFile = "items.jsonl";
    public const string TruthFile = "truth.jsonl";

    public static void Write(SyntheticSearchLog log, string directory)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.Write(Path.Combine(directory, ItemsFile), s => Lines(s, log.Items, (w, item) => WriteItem(w, log.Catalog, item)));
        AtomicFile.Write(Path.Combine(directory, RequestsFile), s => Lines(s, log.Requests, WriteRequest));
        AtomicFile.Write(Path.Combine(directory, TruthFile), s => Lines(s, log.Requests, (w, r) => WriteTruth(w, log.Catalog, r)));
    }

    static void Lines<T>(Stream stream, T[] records, Action<Utf8JsonWriter, T> write)
    {
        // AtomicFile's FileStream buffers; the writer is reset per line so that each record is a
        // separate top-level JSON value.
        using var writer = new Utf8JsonWriter(stream);
        foreach (var record in records)
        {
            write(writer, record);
            writer.Flush();
            stream.WriteByte((byte)'\n');
            writer.Reset(stream);
        }
    }

    static void WriteItem(Utf8JsonWriter w, SyntheticCatalog catalog, SyntheticItem item)
    {
        w.WriteStartObject();
        w.WriteString("item_id", SyntheticSearchLog.ItemId(item.Index));
        w.WriteString("category", catalog.LeafId(item.Leaf));
        w.WriteStartArray("category_path");
        w.WriteStringValue(catalog.TopId(catalog.TopOf(item.Leaf)));
        w.WriteStringValue(catalog.LeafId(item.Leaf));
        w.WriteEndArray();
        w.WriteString("title", item.Title);
        w.WriteEndObject();
    }

    static void WriteRequest(Utf8JsonWriter w, SyntheticRequest r)
    {
        w.WriteStartObject();
        w.WriteNumber("request_id", r.RequestId);
        w.WriteString("user_id", SyntheticSearchLog.UserId(r.User));
        w.WriteNumber("timestamp", r.Timestamp);
        w.WriteString("query", r.Query);
        w.WriteStartObject("context");
        w.WriteNumber("hour", r.Hour);
        w.WriteNumber("weekday", r.Weekday);
        w.WriteNumber("page", r.Page);
        w.WriteEndObject();
        w.WriteStartObject("scene");
        w.WriteString("device", SyntheticCatalog.Devices[r.Device]);
        w.WriteString("source", SyntheticCatalog.Sources[r.Source]);
        w.WriteEndObject();
        w.WriteStartArray("items");
        for (var i = 0; i < r.Items.Length; i++)
        {
            w.WriteStartObject();
            w.WriteString("item_id", SyntheticSearchLog.ItemId(r.Items[i]));
            w.WriteNumber("position", i + 1);
            w.WriteNumber("clicked", r.Clicked[i] ? 1 : 0);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    static void WriteTruth(Utf8JsonWriter w, SyntheticCatalog catalog, SyntheticRequest r)
    {
        w.WriteStartObject();
        w.WriteNumber("request_id", r.RequestId);
        w.WriteString("true_intent", catalog.LeafId(r.TrueIntentLeaf));
        w.WriteString("true_intent_top", catalog.TopId(catalog.TopOf(r.TrueIntentLeaf)));
        w.WriteStartArray("noisy_clicks");
        for (var i = 0; i < r.Items.Length; i++)
            if (r.Noise[i] != ClickNoise.None) w.WriteStringValue(SyntheticSearchLog.ItemId(r.Items[i]));
        w.WriteEndArray();
        w.WriteStartArray("accidental_clicks");
        for (var i = 0; i < r.Items.Length; i++)
            if (r.Noise[i] == ClickNoise.Accidental) w.WriteStringValue(SyntheticSearchLog.ItemId(r.Items[i]));
        w.WriteEndArray();
        w.WriteStartArray("cross_category_clicks");
        for (var i = 0; i < r.Items.Length; i++)
            if (r.Noise[i] == ClickNoise.CrossCategory) w.WriteStringValue(SyntheticSearchLog.ItemId(r.Items[i]));
        w.WriteEndArray();
        w.WriteStartObject("intent_weights");
        for (var j = 0; j < r.IntentLeaves.Length; j++)
            w.WriteNumber(catalog.LeafId(r.IntentLeaves[j]), Math.Round(r.IntentWeights[j], 4));
        w.WriteEndObject();
        w.WriteString("dominant_interest", catalog.LeafId(r.DominantLeaf));
        w.WriteBoolean("interest_shift", r.InterestShift);
        w.WriteBoolean("ambiguous_query", r.AmbiguousQuery);
        w.WriteEndObject();
    }
}
