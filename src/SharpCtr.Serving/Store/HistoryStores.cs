namespace SharpCtr.Serving.Store;

/// <summary>`--store` values: sqlite:PATH or postgres:CONNECTION-STRING.</summary>
public static class HistoryStores
{
    public static IHistoryStore Open(string spec, int keepPerUser)
    {
        if (spec.StartsWith("sqlite:", StringComparison.Ordinal)) return new SqliteHistoryStore(spec["sqlite:".Length..], keepPerUser);
        if (spec.StartsWith("postgres:", StringComparison.Ordinal)) return new PostgresHistoryStore(spec["postgres:".Length..], keepPerUser);
        throw new ArgumentException($"--store '{spec}': expected sqlite:PATH or postgres:CONNECTION-STRING (e.g. postgres:Host=127.0.0.1;Port=5432;Username=me;Database=sharpctr)");
    }
}
