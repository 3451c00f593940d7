using SharpCtr.Data.Encoded;
using SharpCtr.Data.Protocol;
using SharpCtr.Data.Raw;
using SharpCtr.Data.Readers;

namespace SharpCtr.Data;

/// <summary>Config → encoded data set: from the cache when its key matches, otherwise read, build and cache.</summary>
public static class DatasetLoader
{
    /// <summary>The raw data set as the config's reader produces it.</summary>
    public static RawData ReadRaw(DataConfig cfg, string dataRoot)
    {
        var path = DataRoot.Locate(dataRoot, cfg.Path, cfg.Format);
        var raw = ReadInteractions(cfg, path);
        if (cfg.SemanticIds != null)
            SemanticIdReader.AttachTo(raw, SemanticIdReader.Read(DataRoot.LocateFile(dataRoot, cfg.SemanticIds, "semantic_ids")));
        foreach (var (name, file) in cfg.ItemVectorFiles)
            raw.ItemVectors[name] = ItemVectorReader.Read(DataRoot.LocateFile(dataRoot, file, "item_vectors"));
        return raw;
    }

    static RawData ReadInteractions(DataConfig cfg, string path)
    {
        return cfg.Format switch
        {
            "movielens" => MovieLensReader.Read(path, cfg.Ratings, cfg.SkipBadLines),
            "movielens-100k" => MovieLens100kReader.Read(path, cfg.SkipBadLines),
            "amazon" => AmazonReader.Read(Path.Combine(path, cfg.Reviews ?? throw new InvalidOperationException("amazon: 'source.reviews' is required")),
                                          cfg.Meta == null ? null : Path.Combine(path, cfg.Meta), cfg.SkipBadLines),
            "interactions" => InteractionsReader.Read(path, new InteractionsReader.Columns(cfg.UserColumn, cfg.ItemColumn, cfg.RatingColumn, cfg.TimestampColumn), cfg.Delimiter, cfg.SkipBadLines),
            "sequence-json" => SequenceJsonReader.Read(path, cfg.ItemsFile == null ? null : Path.Combine(Path.GetDirectoryName(path)!, cfg.ItemsFile)),
            "impressions" => ImpressionLogReader.Read(path, cfg.SkipBadLines).Raw,
            _ => throw new InvalidOperationException($"unknown format '{cfg.Format}'"),
        };
    }

    public sealed record Result(EncodedDataset Dataset, string CachePath, bool FromCache);

    /// <param name="cacheDir">null: the config's cache_dir, else $SHARPCTR_CACHE, else ./.build/data-cache</param>
    public static Result Load(DataConfig cfg, string dataRoot, string? cacheDir = null, bool rebuild = false)
    {
        var path = DataRoot.Locate(dataRoot, cfg.Path, cfg.Format);
        var files = Directory.Exists(path) ? RawFilesIn(path) : new List<string> { path };
        if (cfg.ItemsFile != null && File.Exists(path)) files.Add(Path.Combine(Path.GetDirectoryName(path)!, cfg.ItemsFile));
        if (cfg.SemanticIds != null) files.Add(DataRoot.LocateFile(dataRoot, cfg.SemanticIds, "semantic_ids"));
        foreach (var (_, file) in cfg.ItemVectorFiles) files.Add(DataRoot.LocateFile(dataRoot, file, "item_vectors"));
        var key = DatasetCache.Key(files, cfg.ResolvedYaml);
        var dir = cacheDir ?? (cfg.CacheDir.Length > 0 ? cfg.CacheDir : Environment.GetEnvironmentVariable("SHARPCTR_CACHE") ?? Path.Combine(".build", "data-cache"));
        var cachePath = Path.Combine(dir, $"{cfg.Name}-{key[..16]}.bin");
        if (!rebuild && DatasetCache.TryRead(cachePath, key) is { } cached) return new Result(cached, cachePath, true);
        var raw = ReadRaw(cfg, dataRoot);
        var ds = ProtocolBuilder.Build(raw, cfg);
        DatasetCache.Write(cachePath, ds, key);
        return new Result(ds, cachePath, false);
    }

    /// <summary>The files of a data set folder that a reader may use (every plain file; hidden files excluded).</summary>
    static List<string> RawFilesIn(string dir)
    {
        var list = new List<string>();
        foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.TopDirectoryOnly))
            if (!Path.GetFileName(f).StartsWith('.') && !f.EndsWith(".md", StringComparison.OrdinalIgnoreCase) && Path.GetFileName(f) != "README") list.Add(f);
        return list;
    }
}
