using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace SharpCtr.Serving.Store;

/// <summary>
/// The embedded store: one SQLite file in WAL mode (readers never wait for the writer). Each
/// append commits before it returns, so the next score request sees it; users are trimmed to
/// their most recent <see cref="KeepPerUser"/> events in the same transaction.
/// </summary>
public sealed class SqliteHistoryStore : IHistoryStore
{
    readonly string connectionString;
    readonly SemaphoreSlim writer = new(1, 1);   // one writer at a time; SQLite would serialise them anyway
    // Open connections with the read statement prepared, one per concurrent reader: opening a
    // pooled connection and compiling the SELECT was most of a read (measured below in RecentAsync).
    readonly ConcurrentBag<Reader> readers = new();
    sealed record Reader(SqliteConnection Connection, SqliteCommand Command, SqliteParameter User, SqliteParameter Limit);
    volatile bool disposed;
    public int KeepPerUser { get; }
    public string Describe { get; }

    public SqliteHistoryStore(string path, int keepPerUser)
    {
        if (keepPerUser <= 0) throw new ArgumentOutOfRangeException(nameof(keepPerUser), "must keep at least one event per user");
        KeepPerUser = keepPerUser;
        path = Path.GetFullPath(path);
        Describe = "sqlite:" + path;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 10 }.ToString();
        using var c = Open();
        Execute(c, """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                user_id TEXT NOT NULL, item_id TEXT NOT NULL, action TEXT NOT NULL,
                ts INTEGER NOT NULL, attributes TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS events_by_user ON events (user_id, ts, id);
            """);
    }

    /// <summary>The journal mode SQLite reports (tests check it is "wal").</summary>
    public string JournalMode()
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode;";
        return (string)cmd.ExecuteScalar()!;
    }

    SqliteConnection Open()
    {
        var c = new SqliteConnection(connectionString);
        c.Open();
        return c;
    }

    static void Execute(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public async Task AppendAsync(IReadOnlyList<BehaviorEvent> events, CancellationToken ct)
    {
        await writer.WaitAsync(ct);
        try
        {
            using var c = Open();
            using var tx = c.BeginTransaction();
            using (var insert = c.CreateCommand())
            {
                insert.CommandText = "INSERT INTO events (user_id, item_id, action, ts, attributes) VALUES ($u, $i, $a, $t, $x);";
                var u = insert.Parameters.Add("$u", SqliteType.Text);
                var i = insert.Parameters.Add("$i", SqliteType.Text);
                var a = insert.Parameters.Add("$a", SqliteType.Text);
                var t = insert.Parameters.Add("$t", SqliteType.Integer);
                var x = insert.Parameters.Add("$x", SqliteType.Text);
                foreach (var e in events)
                {
                    u.Value = e.UserId; i.Value = e.ItemId; a.Value = e.Action; t.Value = e.Timestamp; x.Value = EventAttributes.ToJson(e.Attributes);
                    insert.ExecuteNonQuery();
                }
            }
            using (var trim = c.CreateCommand())
            {
                trim.CommandText = """
                    DELETE FROM events WHERE user_id = $u AND id NOT IN
                      (SELECT id FROM events WHERE user_id = $u ORDER BY ts DESC, id DESC LIMIT $n);
                    """;
                var u = trim.Parameters.Add("$u", SqliteType.Text);
                trim.Parameters.AddWithValue("$n", KeepPerUser);
                foreach (var user in events.Select(e => e.UserId).Distinct())
                {
                    u.Value = user;
                    trim.ExecuteNonQuery();
                }
            }
            tx.Commit();
        }
        finally { writer.Release(); }
    }

    public Task<List<BehaviorEvent>> RecentAsync(string userId, int limit, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (!readers.TryTake(out var reader)) reader = NewReader();
        var list = new List<BehaviorEvent>();
        try
        {
            reader.User.Value = userId;
            reader.Limit.Value = Math.Min(limit, KeepPerUser);
            using (var r = reader.Command.ExecuteReader())
                while (r.Read()) list.Add(new BehaviorEvent(userId, r.GetString(0), r.GetString(1), r.GetInt64(2), EventAttributes.FromJson(r.GetString(3))));
        }
        catch
        {
            reader.Command.Dispose();
            reader.Connection.Dispose();   // a reader that failed is not reused
            throw;
        }
        readers.Add(reader);
        if (disposed) CloseReaders();   // the store was disposed while this read ran
        list.Reverse();
        return Task.FromResult(list);
    }

    Reader NewReader()
    {
        var c = Open();
        var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT item_id, action, ts, attributes FROM events WHERE user_id = $u ORDER BY ts DESC, id DESC LIMIT $n;";
        var u = cmd.Parameters.Add("$u", SqliteType.Text);
        var n = cmd.Parameters.Add("$n", SqliteType.Integer);
        u.Value = ""; n.Value = 0;
        cmd.Prepare();
        return new Reader(c, cmd, u, n);
    }

    void CloseReaders()
    {
        while (readers.TryTake(out var r)) { r.Command.Dispose(); r.Connection.Dispose(); }
    }

    public void Dispose()
    {
        disposed = true;
        CloseReaders();
        writer.Dispose();
        SqliteConnection.ClearAllPools();
    }
}
