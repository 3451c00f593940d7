using SharpCtr.Serving.Store;

namespace SharpCtr.Serving.Tests;

public sealed class SqliteStoreTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "sharpctr-sqlite-" + Guid.NewGuid().ToString("N")[..8]);
    string DbPath => Path.Combine(dir, "history.db");

    [Fact] public async Task AppendedEventsComeBackOldestFirst() { using var s = new SqliteHistoryStore(DbPath, 20); await StoreContract.AppendedEventsComeBackOldestFirst(s); }
    [Fact] public async Task KeepsOnlyTheMostRecentPerUser() { using var s = new SqliteHistoryStore(DbPath, 20); await StoreContract.KeepsOnlyTheMostRecentPerUser(s); }
    [Fact] public async Task ConcurrentAppendsAreAllKept() { using var s = new SqliteHistoryStore(DbPath, 20); await StoreContract.ConcurrentAppendsAreAllKept(s); }

    [Fact]
    public async Task UsesWalAndSurvivesReopening()
    {
        using (var s = new SqliteHistoryStore(DbPath, 20))
        {
            Assert.Equal("wal", s.JournalMode());
            await s.AppendAsync([new BehaviorEvent("u", "i", "click", 1, new Dictionary<string, string[]>())], default);
        }
        using var reopened = new SqliteHistoryStore(DbPath, 20);
        Assert.Equal("i", Assert.Single(await reopened.RecentAsync("u", 5, default)).ItemId);
        Assert.True(File.Exists(DbPath));
    }

    [Fact]
    public void StoreSpecsAreParsed()
    {
        using (var s = HistoryStores.Open("sqlite:" + DbPath, 5)) Assert.Equal("sqlite:" + DbPath, s.Describe);
        var e = Assert.Throws<ArgumentException>(() => HistoryStores.Open("redis:localhost", 5));
        Assert.Contains("sqlite:PATH", e.Message);
    }

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }
}

public sealed class PostgresFixture : IDisposable
{
    readonly Lazy<PostgresServer> server = new(() => new PostgresServer());
    public string ConnectionString => server.Value.ConnectionString;
    public void Dispose() { if (server.IsValueCreated) server.Value.Dispose(); }
}

public sealed class PostgresStoreTests(PostgresFixture pg) : IClassFixture<PostgresFixture>
{
    // every test its own table: the same server may be shared (CI's $SHARPCTR_POSTGRES)
    PostgresHistoryStore Open(int keep = 20) => new(pg.ConnectionString, keep, "events_" + Guid.NewGuid().ToString("N")[..12]);

    [PostgresFact] public async Task AppendedEventsComeBackOldestFirst() { using var s = Open(); await StoreContract.AppendedEventsComeBackOldestFirst(s); }
    [PostgresFact] public async Task KeepsOnlyTheMostRecentPerUser() { using var s = Open(); await StoreContract.KeepsOnlyTheMostRecentPerUser(s); }
    [PostgresFact] public async Task ConcurrentAppendsAreAllKept() { using var s = Open(); await StoreContract.ConcurrentAppendsAreAllKept(s); }

    [PostgresFact]
    public async Task TwoInstancesShareOneStore()
    {
        var table = "events_" + Guid.NewGuid().ToString("N")[..12];
        using var a = new PostgresHistoryStore(pg.ConnectionString, 20, table);
        using var b = new PostgresHistoryStore(pg.ConnectionString, 20, table);
        await a.AppendAsync([new BehaviorEvent("u", "from-a", "click", 1, new Dictionary<string, string[]>())], default);
        Assert.Equal("from-a", Assert.Single(await b.RecentAsync("u", 5, default)).ItemId);
    }
}
