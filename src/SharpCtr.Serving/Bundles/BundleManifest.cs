using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpCtr.Serving.Bundles;

/// <summary>
/// manifest.json of a bundle: what it holds and a SHA-256 per file. <see cref="Version"/> is a
/// hash over the file hashes, so two bundles with the same bytes have the same version and a
/// re-trained model gets a new one; every score response carries it.
/// </summary>
public sealed class BundleManifest
{
    public const int CurrentFormat = 1;
    public const string FileName = "manifest.json";

    [JsonPropertyName("format_version")] public int FormatVersion { get; init; } = CurrentFormat;
    [JsonPropertyName("version")] public string Version { get; init; } = "";
    [JsonPropertyName("model")] public string Model { get; init; } = "";
    [JsonPropertyName("experiment")] public string Experiment { get; init; } = "";
    [JsonPropertyName("dataset")] public string Dataset { get; init; } = "";
    [JsonPropertyName("created")] public DateTimeOffset Created { get; init; }
    /// <summary>File name → lower-case hex SHA-256 of its bytes.</summary>
    [JsonPropertyName("files")] public SortedDictionary<string, string> Files { get; init; } = new(StringComparer.Ordinal);

    internal static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string Sha256(string path)
    {
        using var s = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(s)).ToLowerInvariant();
    }

    /// <summary>The bundle version: the first 12 hex digits of SHA-256 over "name=hash" lines.</summary>
    public static string VersionOf(SortedDictionary<string, string> files)
    {
        var text = string.Concat(files.Select(kv => $"{kv.Key}={kv.Value}\n"));
        return Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..12].ToLowerInvariant();
    }

    public static BundleManifest Read(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) throw new BundleException($"{dir}: no {FileName} (not a bundle; create one with `sharpctr export <run-dir> --out DIR`)");
        BundleManifest? m;
        try { m = JsonSerializer.Deserialize<BundleManifest>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new BundleException($"{path}: line {e.LineNumber + 1}: {e.Message}"); }
        if (m is null) throw new BundleException($"{path}: empty manifest");
        if (m.FormatVersion != CurrentFormat) throw new BundleException($"{path}: field 'format_version' is {m.FormatVersion}; this build reads format {CurrentFormat}");
        return m;
    }

    /// <summary>Checks every listed file's SHA-256 and that the version matches them; throws naming the first bad file.</summary>
    public void Verify(string dir, IEnumerable<string> required)
    {
        foreach (var name in required)
            if (!Files.ContainsKey(name)) throw new BundleException($"{Path.Combine(dir, FileName)}: field 'files' does not list required file '{name}'");
        foreach (var (name, hash) in Files)
        {
            if (name.Contains('/') || name.Contains('\\') || name.StartsWith('.')) throw new BundleException($"{Path.Combine(dir, FileName)}: file name '{name}' is not a plain name");
            var path = Path.Combine(dir, name);
            if (!File.Exists(path)) throw new BundleException($"{path}: listed in the manifest but missing");
            var actual = Sha256(path);
            if (actual != hash) throw new BundleException($"{path}: SHA-256 {actual} does not match the manifest's {hash} (file changed or truncated)");
        }
        if (VersionOf(Files) != Version) throw new BundleException($"{Path.Combine(dir, FileName)}: field 'version' is '{Version}' but the files hash to '{VersionOf(Files)}'");
    }
}
