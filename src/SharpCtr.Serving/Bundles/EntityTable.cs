using System.Text.Json;
using System.Text.Json.Serialization;
using SharpCtr.Data.Raw;

namespace SharpCtr.Serving.Bundles;

/// <summary>
/// The raw attributes of users or items that the model's fields read (user.gender, item.genre …),
/// by raw key, so that a request may name only an item_id and still get its genre. Stored as
/// users.json / items.json; values stay raw strings and go through the vocabularies at serving time.
/// </summary>
public sealed class EntityTable
{
    static readonly Dictionary<string, string[]> None = new(StringComparer.Ordinal);

    [JsonPropertyName("attributes")] public List<string> Attributes { get; init; } = new();
    /// <summary>Raw key → attribute name → values.</summary>
    [JsonPropertyName("entities")] public Dictionary<string, Dictionary<string, string[]>> Entities { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The attributes of one entity; empty when the key is unknown.</summary>
    public IReadOnlyDictionary<string, string[]> Of(string key) => Entities.TryGetValue(key, out var a) ? a : None;

    /// <summary>The listed attributes of every key of <paramref name="keys"/>.</summary>
    public static EntityTable From(KeyTable keys, AttributeTable attributes, IEnumerable<string> names)
    {
        var table = new EntityTable { Attributes = names.Distinct().Order(StringComparer.Ordinal).ToList() };
        if (table.Attributes.Count == 0) return table;
        for (int e = 0; e < keys.Count; e++)
        {
            var values = new Dictionary<string, string[]>(StringComparer.Ordinal);
            foreach (var name in table.Attributes)
                if (attributes.Get(e, name) is { } v) values[name] = v;
            if (values.Count > 0) table.Entities[keys.Keys[e]] = values;
        }
        return table;
    }

    public void Write(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this));

    public static EntityTable Read(string dir, string file)
    {
        var t = BundleSchema.ReadJson<EntityTable>(dir, file);
        // JSON gives a default comparer; raw keys compare ordinally everywhere else
        return new EntityTable { Attributes = t.Attributes, Entities = new(t.Entities, StringComparer.Ordinal) };
    }
}
