using Npgsql;
using NpgsqlTypes;

namespace SharpCtr.Serving.Store;

/// <summary>
/// The shared store for several service instances: one PostgreSQL table, the same contract as
/// <see cref="SqliteHistoryStore"/>. An append and its per-user trim are one transaction.
/// </summary>
public sealed class PostgresHistoryStore : IHistoryStore
{
    readonly NpgsqlDataSource source;
    readonly string table;
    public int KeepPerUser { get; }
    public string Describe { get; }

    /// <param name="table">table name (letters, digits, underscore); tests use their own.</param>
    public PostgresHistoryStore(string connectionString, int keepPerUser, string table = "sharpctr_events")
    {
        if (keepPerUser <= 0) throw new ArgumentOutOfRangeException(nameof(keepPerUser), "must keep at least one event per user");
        if (!System.Text.RegularExpressions.Regex.IsMatch(table, "^[a-z_][a-z0-9_]*$")) throw new ArgumentException($"table name '{table}' must be lower-case letters, digits and underscores");
        KeepPerUser = keepPerUser;
        this.table = table;
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        Describe = $"postgres:{b.Host}:{b.Port}/{b.Database} table {table}";
        source = NpgsqlDataSource.Create(connectionString);
        using var cmd = source.CreateCommand($"""
            CREATE TABLE IF NOT EXISTS {table} (
                id BIGSERIAL PRIMARY KEY,
                user_id TEXT NOT NULL, item_id TEXT NOT NULL, action TEXT NOT NULL,
                ts BIGINT NOT NULL, attributes TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS {table}_by_user ON {table} (user_id, ts, id);
            """);
        cmd.ExecuteNonQuery();
    }

    public async Task AppendAsync(IReadOnlyList<BehaviorEvent> events, CancellationToken ct)
    {
        await using var c = await source.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var batch = new NpgsqlBatch(c, tx);
        foreach (var e in events)
        {
            var cmd = new NpgsqlBatchCommand($"INSERT INTO {table} (user_id, item_id, action, ts, attributes) VALUES ($1, $2, $3, $4, $5)");
            cmd.Parameters.Add(new NpgsqlParameter<string>{ TypedValue = e.UserId });
            cmd.Parameters.Add(new NpgsqlParameter<string>{ TypedValue = e.ItemId });
            cmd.Parameters.Add(new NpgsqlParameter<string>{ TypedValue = e.Action });
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = e.Timestamp });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = EventAttributes.ToJson(e.Attributes) });
            batch.BatchCommands.Add(cmd);
        }
        foreach (var user in events.Select(e => e.UserId).Distinct())
        {
            var trim = new NpgsqlBatchCommand($"DELETE FROM {table} WHERE user_id = $1 AND id NOT IN (SELECT id FROM {table} WHERE user_id = $1 ORDER BY ts DESC, id DESC LIMIT $2)");
            trim.Parameters.Add(new NpgsqlParameter<string> { TypedValue = user });
            trim.Parameters.Add(new NpgsqlParameter<int> { TypedValue = KeepPerUser, NpgsqlDbType = NpgsqlDbType.Integer });
            batch.BatchCommands.Add(trim);
        }
        await using (batch) await batch.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
    }

    public async Task<List<BehaviorEvent>> RecentAsync(string userId, int limit, CancellationToken ct)
    {
        await using var cmd = source.CreateCommand($"SELECT item_id, action, ts, attributes FROM {table} WHERE user_id = $1 ORDER BY ts DESC, id DESC LIMIT $2");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Math.Min(limit, KeepPerUser) });
        var list = new List<BehaviorEvent>();
        await using (var r = await cmd.ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct)) list.Add(new BehaviorEvent(userId, r.GetString(0), r.GetString(1), r.GetInt64(2), EventAttributes.FromJson(r.GetString(3))));
        list.Reverse();
        return list;
    }

    public void Dispose() => source.Dispose();
}
