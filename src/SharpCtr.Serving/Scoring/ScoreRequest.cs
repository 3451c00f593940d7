using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpCtr.Serving.Scoring;

/// <summary>POST /v1/score body. Ids may be strings or integers; attributes are strings, numbers or lists of them.</summary>
public sealed class ScoreRequest
{
    [JsonPropertyName("user_id")] public JsonElement UserId { get; init; }
    /// <summary>Optional: the caller's id for this request (string or integer), echoed in the answer for joins with logs.</summary>
    [JsonPropertyName("request_id")] public JsonElement RequestId { get; init; }
    /// <summary>Optional: the model name or bundle version the client expects; another one is a 404.</summary>
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("query")] public string? Query { get; init; }
    /// <summary>Row and user attributes by name (e.g. "gender", "query"); "timestamp" (unix seconds) drives time.hour / time.weekday.</summary>
    [JsonPropertyName("context")] public Dictionary<string, JsonElement>? Context { get; init; }
    /// <summary>Scene attributes by name (device, source …): the impression log's scene object, read by row.scene.* fields.</summary>
    [JsonPropertyName("scene")] public Dictionary<string, JsonElement>? Scene { get; init; }
    [JsonPropertyName("candidates")] public List<ItemJson>? Candidates { get; init; }
    /// <summary>Oldest first; when absent the history comes from the store.</summary>
    [JsonPropertyName("history")] public List<ItemJson>? History { get; init; }
}

/// <summary>
/// A candidate or history item: its id and optional attributes (e.g. "genre") that override the
/// bundle's item table. Read by <see cref="ItemJsonConverter"/>: a request carries ~100 of these,
/// and binding each id to a JsonElement (a cloned document per item) was most of the parse.
/// </summary>
[JsonConverter(typeof(ItemJsonConverter))]
public sealed class ItemJson
{
    /// <summary>The id's JSON kind; Undefined when the object has no item_id.</summary>
    public JsonValueKind IdKind { get; init; }
    /// <summary>The id as text: a string's value, an integer's digits, else the raw JSON (for the error message).</summary>
    public string? IdText { get; init; }
    /// <summary>Whether a number id is an integer.</summary>
    public bool IdIsInteger { get; init; }
    public Dictionary<string, JsonElement>? Attributes { get; init; }
}

/// <summary>Reads an <see cref="ItemJson"/> straight from the reader; attributes other than item_id become JsonElements as before.</summary>
public sealed class ItemJsonConverter : JsonConverter<ItemJson>
{
    public override ItemJson? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException($"an item must be an object with item_id, got {reader.TokenType}");
        var kind = JsonValueKind.Undefined;
        string? text = null;
        bool integer = false;
        Dictionary<string, JsonElement>? attributes = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals("item_id"u8))
            {
                reader.Read();
                switch (reader.TokenType)
                {
                    case JsonTokenType.String: kind = JsonValueKind.String; text = reader.GetString(); break;
                    case JsonTokenType.Number:
                        kind = JsonValueKind.Number;
                        integer = reader.TryGetInt64(out long n);
                        text = integer ? n.ToString(CultureInfo.InvariantCulture) : JsonElement.ParseValue(ref reader).GetRawText();
                        break;
                    case JsonTokenType.Null: kind = JsonValueKind.Null; break;
                    default:
                        var element = JsonElement.ParseValue(ref reader);
                        kind = element.ValueKind;
                        text = element.GetRawText();
                        break;
                }
                continue;
            }
            string name = reader.GetString()!;
            reader.Read();
            (attributes ??= new Dictionary<string, JsonElement>(StringComparer.Ordinal))[name] = JsonElement.ParseValue(ref reader);
        }
        return new ItemJson { IdKind = kind, IdText = text, IdIsInteger = integer, Attributes = attributes };
    }

    public override void Write(Utf8JsonWriter writer, ItemJson value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        switch (value.IdKind)
        {
            case JsonValueKind.String: writer.WriteString("item_id", value.IdText); break;
            case JsonValueKind.Number or JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.True or JsonValueKind.False:
                writer.WritePropertyName("item_id");
                writer.WriteRawValue(value.IdText!);
                break;
            case JsonValueKind.Null: writer.WriteNull("item_id"); break;
        }
        if (value.Attributes is not null)
            foreach (var (name, v) in value.Attributes) { writer.WritePropertyName(name); v.WriteTo(writer); }
        writer.WriteEndObject();
    }
}

/// <summary>POST /v1/score answer: click probabilities in candidate order, and which bundle produced them.</summary>
public sealed record ScoreResponse(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("scores")] float[] Scores,
    [property: JsonPropertyName("history_length")] int HistoryLength,
    [property: JsonPropertyName("request_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RequestId = null);

/// <summary>POST /v1/events body: behaviour events to append to the user-history store.</summary>
public sealed class EventsRequest
{
    [JsonPropertyName("events")] public List<EventJson>? Events { get; init; }
}

public sealed class EventJson
{
    [JsonPropertyName("user_id")] public JsonElement UserId { get; init; }
    [JsonPropertyName("item_id")] public JsonElement ItemId { get; init; }
    /// <summary>click, like, purchase … (stored; every stored event enters the history).</summary>
    [JsonPropertyName("action")] public string? Action { get; init; }
    /// <summary>Unix seconds; default: now.</summary>
    [JsonPropertyName("timestamp")] public JsonElement Timestamp { get; init; }
    /// <summary>Item attributes at the time of the event (e.g. "genre", "category").</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Attributes { get; init; }
}

public sealed record EventsResponse([property: JsonPropertyName("appended")] int Appended);
