using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpCtr.Serving.Scoring;

/// <summary>POST /v1/score body. Ids may be strings or integers; attributes are strings, numbers or lists of them.</summary>
public sealed class ScoreRequest
{
    [JsonPropertyName("user_id")] public JsonElement UserId { get; init; }
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

/// <summary>A candidate or history item: its id and optional attributes (e.g. "genre") that override the bundle's item table.</summary>
public sealed class ItemJson
{
    [JsonPropertyName("item_id")] public JsonElement ItemId { get; init; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Attributes { get; init; }
}

/// <summary>POST /v1/score answer: click probabilities in candidate order, and which bundle produced them.</summary>
public sealed record ScoreResponse(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("scores")] float[] Scores,
    [property: JsonPropertyName("history_length")] int HistoryLength);

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
