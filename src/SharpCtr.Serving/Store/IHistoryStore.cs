namespace SharpCtr.Serving.Store;

/// <summary>
/// Where user histories live between requests. SQLite (one process) and PostgreSQL (several
/// service instances sharing one store) keep the same contract: appended events are visible to
/// the next read, and only the most recent <see cref="KeepPerUser"/> events per user are kept.
/// </summary>
public interface IHistoryStore : IDisposable
{
    int KeepPerUser { get; }
    /// <summary>What the store is, for /v1/models and logs (no passwords).</summary>
    string Describe { get; }
    Task AppendAsync(IReadOnlyList<BehaviorEvent> events, CancellationToken ct);
    /// <summary>The user's most recent events, at most <paramref name="limit"/>, oldest first (ties by arrival).</summary>
    Task<List<BehaviorEvent>> RecentAsync(string userId, int limit, CancellationToken ct);
}
