using System.Text.RegularExpressions;
using SharpCtr.Serving.Bundles;
using SharpCtr.Serving.Scoring;

namespace SharpCtr.Serving.Service;

/// <summary>
/// Holds the bundle that serves requests and swaps it atomically. A request reads
/// <see cref="Current"/> once and scores with that bundle to the end, so a reload never changes
/// the model under an in-flight request; the old bundle is collected when the last one finishes.
/// Bundles come only from the configured path: a client may name a sub-folder of the bundle
/// root (a plain name), never a path.
/// </summary>
public sealed partial class BundleHost
{
    readonly string path;
    readonly bool isRoot;
    readonly int warmupRequests;
    readonly Lock reloading = new();
    ModelBundle current;
    int reloads;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex PlainName();

    /// <param name="warmupRequests">made-up requests each loaded bundle scores before it serves (<see cref="Warmup"/>).</param>
    public BundleHost(string path, int warmupRequests = 0)
    {
        this.warmupRequests = warmupRequests;
        this.path = Path.GetFullPath(path);
        if (!Directory.Exists(this.path)) throw new BundleException($"{this.path}: bundle folder does not exist");
        isRoot = !File.Exists(Path.Combine(this.path, BundleManifest.FileName));
        current = Load(Locate(null));
    }

    public ModelBundle Current => Volatile.Read(ref current);
    public int Reloads => Volatile.Read(ref reloads);

    /// <summary>Loads and verifies a bundle, then makes it current. On any failure the current bundle stays.</summary>
    public ModelBundle Reload(string? name)
    {
        lock (reloading)
        {
            var next = Load(Locate(name));
            Volatile.Write(ref current, next);
            Interlocked.Increment(ref reloads);
            return next;
        }
    }

    ModelBundle Load(string dir)
    {
        var bundle = ModelBundle.Load(dir);
        Warmup.Run(bundle, warmupRequests);
        return bundle;
    }

    /// <summary>Names of the bundles under the root (or the one bundle's folder name).</summary>
    public List<string> Available() =>
        isRoot ? Candidates().Select(Path.GetFileName).OfType<string>().ToList() : [Path.GetFileName(path)];

    string Locate(string? name)
    {
        if (name is not null && !PlainName().IsMatch(name))
            throw new RequestException(400, "invalid bundle name", $"parameter 'bundle': '{name}' is not a plain folder name");
        if (!isRoot)
        {
            if (name is not null && name != Path.GetFileName(path))
                throw new RequestException(404, "unknown bundle", $"bundle '{name}' is not available; this service serves the single bundle '{Path.GetFileName(path)}'");
            return path;
        }
        if (name is not null)
        {
            var dir = Path.Combine(path, name);
            if (!File.Exists(Path.Combine(dir, BundleManifest.FileName)))
                throw new RequestException(404, "unknown bundle", $"no bundle '{name}' under the bundle root (available: {string.Join(", ", Available())})");
            return dir;
        }
        // newest by the manifest's creation time; folder name breaks ties
        string? best = null;
        DateTimeOffset bestTime = DateTimeOffset.MinValue;
        foreach (var dir in Candidates())
        {
            var created = BundleManifest.Read(dir).Created;
            if (best is null || created > bestTime || (created == bestTime && string.CompareOrdinal(dir, best) > 0)) { best = dir; bestTime = created; }
        }
        return best ?? throw new BundleException($"{path}: neither a bundle nor a folder of bundles (no manifest.json in it or its sub-folders)");
    }

    IEnumerable<string> Candidates() =>
        Directory.EnumerateDirectories(path).Order(StringComparer.Ordinal)
            .Where(d => !Path.GetFileName(d).Contains(".tmp-", StringComparison.Ordinal) && File.Exists(Path.Combine(d, BundleManifest.FileName)));
}
