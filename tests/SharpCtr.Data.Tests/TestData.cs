namespace SharpCtr.Data.Tests;

/// <summary>Real data root for tests: $SHARPCTR_DATA, else the shared datasets folder if present.</summary>
public static class TestData
{
    public static string? Root
    {
        get
        {
            var env = Environment.GetEnvironmentVariable(DataRoot.EnvironmentVariable);
            if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
            foreach (var candidate in new[] { Path.Combine(Repo.Root, "..", "shared", "datasets"), "/work/shared/datasets" })
                if (Directory.Exists(candidate)) return Path.GetFullPath(candidate);
            return null;
        }
    }

    public static bool Has(string set) => Root != null && Directory.Exists(Path.Combine(Root, set));
}

public static class Repo
{
    public static string Root
    {
        get
        {
            var dir = AppContext.BaseDirectory;
            while (dir != null && !File.Exists(Path.Combine(dir, "SharpCtr.sln"))) dir = Path.GetDirectoryName(dir);
            return dir ?? throw new InvalidOperationException("repository root not found");
        }
    }

    public static string Config(string set) => Path.Combine(Root, "configs", set, "data.yaml");
    public static string Fixture(string name) => Path.Combine(Root, "tests", "SharpCtr.Data.Tests", "Fixtures", name);
}

/// <summary>A fact that xunit reports as skipped, with the reason, when a real data set is absent.</summary>
public sealed class SkippableFactIfNoDataAttribute : FactAttribute
{
    public SkippableFactIfNoDataAttribute(string set)
    {
        if (!TestData.Has(set))
            Skip = $"data set '{set}' not found (set {DataRoot.EnvironmentVariable} to the folder holding {set}/); download from https://grouplens.org/datasets/movielens/";
    }
}
