namespace SharpCtr.Data.Raw;

/// <summary>
/// What a reader produces: interactions (one row each) plus user, item and row attributes,
/// still as raw keys. A protocol turns it into labelled, split, encoded samples.
/// A user's chronological order is (SortKey, file order); rows sharing an Event id (a search
/// request) happen at the same moment, so none of them is in another's history.
/// </summary>
public sealed class RawData
{
    public KeyTable Users { get; } = new();
    public KeyTable Items { get; } = new();
    public AttributeTable UserAttributes { get; } = new();
    public AttributeTable ItemAttributes { get; } = new();
    public AttributeTable RowAttributes { get; } = new();

    public List<int> RowUser { get; } = new();
    public List<int> RowItem { get; } = new();
    /// <summary>Rating, or 0/1 click for impression logs.</summary>
    public List<float> RowRating { get; } = new();
    /// <summary>Chronological key within a user: seq_pos, timestamp or request order.</summary>
    public List<long> RowSortKey { get; } = new();
    /// <summary>Unix seconds, or -1 when unknown.</summary>
    public List<long> RowTimestamp { get; } = new();
    /// <summary>Request id for impression logs, -1 when every row is its own event.</summary>
    public List<int> RowEvent { get; } = new();

    /// <summary>Lines skipped under `on_error: skip`, by reason.</summary>
    public Dictionary<string, int> Skipped { get; } = new();

    /// <summary>Raw files read, for the cache key.</summary>
    public List<string> SourceFiles { get; } = new();

    public int RowCount => RowUser.Count;

    public int AddRow(int user, int item, float rating, long sortKey, long timestamp, int @event = -1)
    {
        RowUser.Add(user);
        RowItem.Add(item);
        RowRating.Add(rating);
        RowSortKey.Add(sortKey);
        RowTimestamp.Add(timestamp);
        RowEvent.Add(@event);
        return RowUser.Count - 1;
    }

    public void CountSkip(string reason) => Skipped[reason] = Skipped.GetValueOrDefault(reason) + 1;
}
