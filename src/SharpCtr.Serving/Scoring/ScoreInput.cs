using System.Globalization;
using System.Text.Json;
using SharpCtr.Serving.Store;

namespace SharpCtr.Serving.Scoring;

/// <summary>An item of a request after validation: raw id plus attribute overrides.</summary>
public sealed record ItemInput(string ItemId, IReadOnlyDictionary<string, string[]> Attributes);

/// <summary>A validated score request: everything the encoder reads, as raw strings.</summary>
public sealed class ScoreInput
{
    public required string UserId { get; init; }
    /// <summary>The caller's request id (string or integer, as text), echoed in the answer; null when not given.</summary>
    public string? RequestId { get; init; }
    public string? Query { get; init; }
    public required Dictionary<string, string[]> Context { get; init; }
    /// <summary>The request's scene attributes (row.scene.* fields); empty when not given.</summary>
    public Dictionary<string, string[]> Scene { get; init; } = NoAttributes;
    /// <summary>Unix seconds from context.timestamp, else null (then "now").</summary>
    public long? Timestamp { get; init; }
    public required List<ItemInput> Candidates { get; init; }
    /// <summary>Oldest first; null: read it from the store.</summary>
    public List<ItemInput>? History { get; set; }

    static readonly Dictionary<string, string[]> NoAttributes = new(StringComparer.Ordinal);

    public static ScoreInput From(ScoreRequest r, int maxCandidates)
    {
        var user = Id(r.UserId, "user_id");
        string? requestId = RequestIdOf(r);
        if (r.Candidates is null || r.Candidates.Count == 0) throw RequestException.BadField("candidates", "at least one candidate is required");
        if (r.Candidates.Count > maxCandidates) throw new RequestException(413, "too many candidates", $"field 'candidates': {r.Candidates.Count} candidates; the limit is {maxCandidates}");
        var context = Attributes(r.Context, "context");
        long? ts = null;
        if (r.Context is not null && r.Context.TryGetValue("timestamp", out var t)) ts = UnixSeconds(t, "context.timestamp");
        var candidates = new List<ItemInput>(r.Candidates.Count);
        for (int i = 0; i < r.Candidates.Count; i++) candidates.Add(Item(r.Candidates[i], "candidates", i));
        List<ItemInput>? history = null;
        if (r.History is not null)
        {
            history = new List<ItemInput>(r.History.Count);
            for (int i = 0; i < r.History.Count; i++) history.Add(Item(r.History[i], "history", i));
        }
        var scene = Attributes(r.Scene, "scene");
        return new ScoreInput { UserId = user, RequestId = requestId, Query = r.Query, Context = context, Scene = scene, Timestamp = ts, Candidates = candidates, History = history };
    }

    /// <summary>The request's "request_id" as text, or null when it has none; a malformed one is a 400.</summary>
    public static string? RequestIdOf(ScoreRequest r) =>
        r.RequestId.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? null : Id(r.RequestId, "request_id");

    public static List<BehaviorEvent> Events(EventsRequest r, int maxEvents, long now)
    {
        if (r.Events is null || r.Events.Count == 0) throw RequestException.BadField("events", "at least one event is required");
        if (r.Events.Count > maxEvents) throw new RequestException(413, "too many events", $"field 'events': {r.Events.Count} events; the limit is {maxEvents}");
        var list = new List<BehaviorEvent>(r.Events.Count);
        for (int i = 0; i < r.Events.Count; i++)
        {
            var e = r.Events[i];
            string at = $"events[{i}]";
            long ts = e.Timestamp.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? now : UnixSeconds(e.Timestamp, at + ".timestamp");
            var action = string.IsNullOrWhiteSpace(e.Action) ? "click" : e.Action;
            list.Add(new BehaviorEvent(Id(e.UserId, at + ".user_id"), Id(e.ItemId, at + ".item_id"), action, ts, Attributes(e.Attributes, at)));
        }
        return list;
    }

    /// <summary>One candidate or history item; the field name is only spelled out when it is bad (no string per item otherwise).</summary>
    static ItemInput Item(ItemJson? j, string list, int i)
    {
        if (j is null) throw RequestException.BadField($"{list}[{i}]", "must be an object with item_id");
        if (j.IdKind == JsonValueKind.String && j.IdText is { Length: > 0 } id && j.Attributes is null)
            return new ItemInput(id, NoAttributes);
        return new ItemInput(ItemId(j, $"{list}[{i}].item_id"), Attributes(j.Attributes, $"{list}[{i}]"));
    }

    static string ItemId(ItemJson j, string field) => Id(j.IdKind, j.IdText, j.IdIsInteger, field);

    static string Id(JsonElement e, string field)
    {
        bool integer = false;
        string? text = e.ValueKind switch
        {
            JsonValueKind.String => e.GetString(),
            JsonValueKind.Number => (integer = e.TryGetInt64(out var n)) ? n.ToString(CultureInfo.InvariantCulture) : e.GetRawText(),
            JsonValueKind.Undefined => null,
            _ => e.GetRawText(),
        };
        return Id(e.ValueKind, text, integer, field);
    }

    /// <summary>
    /// A raw id — a non-empty string or an integer — from its JSON kind and text (a string's
    /// value, an integer's digits): one set of rules and messages for ids read as JsonElements and
    /// for items read by <see cref="ItemJsonConverter"/>.
    /// </summary>
    static string Id(JsonValueKind kind, string? text, bool integer, string field) => kind switch
    {
        JsonValueKind.String when text is { Length: > 0 } => text,
        JsonValueKind.String => throw RequestException.BadField(field, "must not be empty"),
        JsonValueKind.Number when integer => text!,
        JsonValueKind.Number => throw RequestException.BadField(field, $"{text} is not an integer id"),
        JsonValueKind.Undefined or JsonValueKind.Null => throw RequestException.BadField(field, "is required"),
        _ => throw RequestException.BadField(field, $"must be a string or an integer, got {kind.ToString().ToLowerInvariant()}"),
    };

    static long UnixSeconds(JsonElement e, string field)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out var ts) || ts < 0 || ts > 100_000_000_000L)
            throw RequestException.BadField(field, $"must be unix seconds (a non-negative integer), got {e.GetRawText()}");
        return ts;
    }

    static Dictionary<string, string[]> Attributes(Dictionary<string, JsonElement>? json, string at)
    {
        if (json is null || json.Count == 0) return NoAttributes;
        var d = new Dictionary<string, string[]>(json.Count, StringComparer.Ordinal);
        foreach (var (name, value) in json)
        {
            if (value.ValueKind == JsonValueKind.Null) continue;
            if (value.ValueKind == JsonValueKind.Array)
            {
                var arr = new string[value.GetArrayLength()];
                int i = 0;
                foreach (var x in value.EnumerateArray()) { arr[i] = Scalar(x, $"{at}.{name}[{i}]"); i++; }
                d[name] = arr;
            }
            else d[name] = [Scalar(value, $"{at}.{name}")];
        }
        return d;
    }

    static string Scalar(JsonElement e, string field) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        // numbers keep their JSON spelling: 1995 stays "1995", as the raw files spell it
        JsonValueKind.Number => e.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw RequestException.BadField(field, $"must be a string, a number or a list of them, got {e.ValueKind.ToString().ToLowerInvariant()}"),
    };
}
