using SharpCtr.Serving.Store;

namespace SharpCtr.Serving.Tests;

/// <summary>What every history store must do; each store's test class runs these against a real database.</summary>
static class StoreContract
{
    static readonly Dictionary<string, string[]> None = new();

    static BehaviorEvent E(string user, string item, long ts, Dictionary<string, string[]>? attributes = null) => new(user, item, "click", ts, attributes ?? None);

    public static async Task AppendedEventsComeBackOldestFirst(IHistoryStore store)
    {
        await store.AppendAsync([E("u1", "a", 100), E("u1", "b", 300), E("u2", "x", 50)], default);
        await store.AppendAsync([E("u1", "c", 200, new() { ["genre"] = ["Drama", "War"] })], default);
        var h = await store.RecentAsync("u1", 10, default);
        Assert.Equal(["a", "c", "b"], h.Select(e => e.ItemId));   // by timestamp, not arrival
        Assert.Equal(["Drama", "War"], h[1].Attributes["genre"]);
        Assert.Equal(200, h[1].Timestamp);
        Assert.Equal("click", h[1].Action);
        Assert.Equal(["c", "b"], (await store.RecentAsync("u1", 2, default)).Select(e => e.ItemId));   // the most recent two
        Assert.Empty(await store.RecentAsync("nobody", 10, default));
        Assert.Single(await store.RecentAsync("u2", 10, default));
    }

    public static async Task KeepsOnlyTheMostRecentPerUser(IHistoryStore store)
    {
        int keep = store.KeepPerUser;
        for (int k = 0; k < keep + 7; k++) await store.AppendAsync([E("busy", "i" + k, 1000 + k)], default);
        await store.AppendAsync(Enumerable.Range(0, 3).Select(k => E("quiet", "q" + k, k)).ToList(), default);
        var h = await store.RecentAsync("busy", keep + 100, default);
        Assert.Equal(keep, h.Count);
        Assert.Equal("i7", h[0].ItemId);
        Assert.Equal("i" + (keep + 6), h[^1].ItemId);
        Assert.Equal(3, (await store.RecentAsync("quiet", 100, default)).Count);
    }

    public static async Task ConcurrentAppendsAreAllKept(IHistoryStore store)
    {
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (int k = 0; k < 5; k++) await store.AppendAsync([E("c" + w, "item" + k, k)], default);
        }));
        await Task.WhenAll(writers);
        for (int w = 0; w < 8; w++) Assert.Equal(5, (await store.RecentAsync("c" + w, 100, default)).Count);
    }
}
