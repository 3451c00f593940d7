using System.Text.Json;

namespace SharpCtr.Serving.Store;

/// <summary>An event's attributes as one JSON text column (the same in SQLite and PostgreSQL).</summary>
static class EventAttributes
{
    static readonly Dictionary<string, string[]> Empty = new(StringComparer.Ordinal);

    public static string ToJson(IReadOnlyDictionary<string, string[]> a) => a.Count == 0 ? "{}" : JsonSerializer.Serialize(a);

    public static IReadOnlyDictionary<string, string[]> FromJson(string json) =>
        json == "{}" ? Empty : JsonSerializer.Deserialize<Dictionary<string, string[]>>(json) ?? Empty;
}
