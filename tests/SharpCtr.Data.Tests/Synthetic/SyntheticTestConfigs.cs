using SharpCtr.Data.Synthetic;

namespace SharpCtr.Data.Tests.Synthetic;

/// <summary>Small generator settings for tests, and the shipped configs shrunk to test size.</summary>
internal static class SyntheticTestConfigs
{
    public static SyntheticSearchOptions Tiny(ulong seed = 7) => new()
    {
        Seed = seed, Users = 60, Days = 5, TopCategories = 3, LeavesPerTop = 2, ItemsPerLeaf = 10,
        MinSessions = 1, MaxSessions = 3, MinShown = 5, MaxShown = 8,
    };

    /// <summary>configs/synthetic-search/generator-{level}.yaml with only the user count changed.</summary>
    public static SyntheticSearchOptions Shipped(string level, int users)
    {
        var options = SyntheticSearchConfig.Load(ShippedPath(level));
        options.Users = users;
        return options;
    }

    public static string ShippedPath(string level) =>
        Path.Combine(RepositoryRoot(), "configs", "synthetic-search", $"generator-{level}.yaml");

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SharpCtr.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no SharpCtr.sln above {AppContext.BaseDirectory}");
    }
}
