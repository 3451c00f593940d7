namespace SharpCtr.Data;

/// <summary>
/// Where data sets live: `--data-dir`, then the SHARPCTR_DATA environment variable, then ./data.
/// </summary>
public static class DataRoot
{
    public const string EnvironmentVariable = "SHARPCTR_DATA";

    public static string Resolve(string? dataDir)
    {
        if (!string.IsNullOrEmpty(dataDir)) return Path.GetFullPath(dataDir);
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
        return Path.GetFullPath("data");
    }

    static readonly Dictionary<string, string> Published = new(StringComparer.OrdinalIgnoreCase)
    {
        ["movielens"] = "https://grouplens.org/datasets/movielens/ (e.g. ml-1m.zip)",
        ["movielens-100k"] = "https://grouplens.org/datasets/movielens/100k/",
        ["amazon"] = "https://amazon-reviews-2023.github.io/ (older releases: https://cseweb.ucsd.edu/~jmcauley/datasets.html)",
    };

    /// <summary>The data set folder/file under the root; a missing one is an error saying where we looked and where it is published.</summary>
    public static string Locate(string root, string relative, string format, string? why = null)
    {
        var path = Path.IsPathRooted(relative) ? relative : Path.Combine(root, relative);
        if (Directory.Exists(path) || File.Exists(path)) return path;
        var from = Published.TryGetValue(format, out var url) ? $" The data set is published at {url}." : "";
        throw new DataSetMissingException(
            $"data set not found: looked for {path} (data root {root}, from {why ?? "--data-dir, then $" + EnvironmentVariable + ", then ./data"}).{from} " +
            $"Put it there, or point --data-dir / {EnvironmentVariable} at the folder that holds it.");
    }

    /// <summary>
    /// A file a data config names beside its data set (semantic IDs, item vectors): a path starting
    /// with ./ or ../ is relative to the working directory (the repository root when run through
    /// ./sharpctr), so a config can use a file this project made (.build/semantic-ids/…); an
    /// absolute path is taken as is; anything else is under the data root.
    /// </summary>
    public static string LocateFile(string root, string path, string format)
    {
        if (!IsWorkingDirectoryRelative(path)) return Locate(root, path, format);
        var full = Path.GetFullPath(path);
        if (File.Exists(full)) return full;
        throw new DataSetMissingException($"{format} file not found: {full} ('{path}' is relative to the working directory {Directory.GetCurrentDirectory()}). " +
            (format == "semantic_ids" ? "Make it with ./sharpctr tokenize <tokenizer.yaml>, or name a file under the data root without ./" : "Name a file under the data root without ./"));
    }

    static bool IsWorkingDirectoryRelative(string path) =>
        path.StartsWith("./", StringComparison.Ordinal) || path.StartsWith("../", StringComparison.Ordinal) ||
        path.StartsWith(".\\", StringComparison.Ordinal) || path.StartsWith("..\\", StringComparison.Ordinal);
}

public sealed class DataSetMissingException(string message) : Exception(message);
