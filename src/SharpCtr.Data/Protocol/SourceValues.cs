using SharpCtr.Data.Raw;
using SharpCtr.Data.Schema;

namespace SharpCtr.Data.Protocol;

/// <summary>
/// Resolves a field source (user_id, item.genre, row.query, time.hour …) to raw values for one
/// sample, and caches per-user / per-item encoded ids so that encoding millions of samples is
/// an array lookup, not a dictionary lookup.
/// </summary>
internal sealed class SourceValues(RawData raw)
{
    static readonly string[][] Numbers = Enumerable.Range(0, 24).Select(i => new[] { i.ToString(System.Globalization.CultureInfo.InvariantCulture) }).ToArray();
    readonly Dictionary<string, string[][]> _keyArrays = new();

    public string[]? Get(string source, int row, int item)
    {
        switch (source)
        {
            case "user_id": return Keys("user_id", raw.Users)[raw.RowUser[row]];
            case "item_id": return Keys("item_id", raw.Items)[item];
            case "time.hour":
            {
                long ts = raw.RowTimestamp[row];
                return ts < 0 ? null : Numbers[DateTimeOffset.FromUnixTimeSeconds(ts).UtcDateTime.Hour];
            }
            case "time.weekday":
            {
                long ts = raw.RowTimestamp[row];
                return ts < 0 ? null : Numbers[(int)DateTimeOffset.FromUnixTimeSeconds(ts).UtcDateTime.DayOfWeek];
            }
        }
        if (source.StartsWith("user.", StringComparison.Ordinal)) return raw.UserAttributes.Get(raw.RowUser[row], source[5..]);
        if (source.StartsWith("item.", StringComparison.Ordinal)) return raw.ItemAttributes.Get(item, source[5..]);
        return raw.RowAttributes.Get(row, source[4..]);
    }

    string[][] Keys(string name, KeyTable table)
    {
        if (_keyArrays.TryGetValue(name, out var arr) && arr.Length == table.Count) return arr;
        arr = new string[table.Count][];
        for (int i = 0; i < arr.Length; i++) arr[i] = new[] { table.Keys[i] };
        return _keyArrays[name] = arr;
    }

    static bool IsUserLevel(string source) => source == "user_id" || source.StartsWith("user.", StringComparison.Ordinal);
    static bool IsItemLevel(string source) => source == "item_id" || source.StartsWith("item.", StringComparison.Ordinal);

    /// <summary>The user or item a source depends on for this sample (only for entity-level sources).</summary>
    public int EntityOf(string source, int row, int item) => IsUserLevel(source) ? raw.RowUser[row] : item;

    /// <summary>Encoded ids per user or per item (first value only unless multi), or null for row-level sources.</summary>
    public int[][]? EntityIdCache(string source, Vocabulary vocab, bool multi)
    {
        int entities;
        if (IsUserLevel(source)) entities = raw.Users.Count;
        else if (IsItemLevel(source)) entities = raw.Items.Count;
        else return null;
        var cache = new int[entities][];
        for (int e = 0; e < entities; e++)
        {
            var vals = IsUserLevel(source) ? GetUser(source, e) : GetItem(source, e);
            if (multi)
            {
                var ids = new int[vals?.Length ?? 0];
                for (int j = 0; j < ids.Length; j++) ids[j] = vocab.Id(vals![j]);
                cache[e] = ids;
            }
            else cache[e] = new[] { vals == null || vals.Length == 0 ? Vocabulary.OutOfVocabulary : vocab.Id(vals[0]) };
        }
        return cache;
    }

    string[]? GetUser(string source, int user) => source == "user_id" ? new[] { raw.Users.Keys[user] } : raw.UserAttributes.Get(user, source[5..]);
    string[]? GetItem(string source, int item) => source == "item_id" ? new[] { raw.Items.Keys[item] } : raw.ItemAttributes.Get(item, source[5..]);
}
