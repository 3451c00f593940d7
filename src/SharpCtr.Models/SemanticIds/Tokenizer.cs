using SharpCtr.Data;
using SharpCtr.Data.Readers;
using SharpCtr.Data.Vectors;

namespace SharpCtr.Models.SemanticIds;

/// <summary>What a tokenizer run produced.</summary>
/// <param name="VectorInfo">null for vectors read from a file.</param>
/// <param name="Codes">[n × (levels + 1)]: semantic codes and the collision digit, in the order of Keys.</param>
public sealed record TokenizeResult(IReadOnlyList<string> Keys, int[] Codes, VectorBuildInfo? VectorInfo, RqVaeResult Training, SemanticIdStats Stats);

/// <summary>Item vectors → RQ-VAE → semantic codes + collision digit → the semantic-ID file.</summary>
public static class Tokenizer
{
    public static TokenizeResult Run(TokenizerConfig cfg, string dataRoot, Action<string>? log = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (vectors, info) = BuildVectors(cfg, dataRoot, log);
        log?.Invoke($"vectors: {vectors.Keys.Count:N0} items × {vectors.Dim} ({cfg.VectorSource}, {clock.Elapsed.TotalSeconds:F1} s)" +
                    (info == null ? "" : $", vocabulary {info.Vocabulary:N0}, {info.NonZeros:N0} non-zeros, SVD keeps {info.ExplainedEnergy:P1} of the energy, {info.EmptyItems} items without features"));
        var result = Tokenize(vectors, cfg.Model, cfg.Train, cfg.CollisionStart, log);
        SemanticIdFile.Write(cfg.Out, vectors.Keys, result.Codes, cfg.Model.Levels + 1);
        return result with { VectorInfo = info };
    }

    /// <summary>Trains the RQ-VAE on the vectors and numbers the collisions.</summary>
    public static TokenizeResult Tokenize(ItemVectors vectors, RqVaeOptions model, RqVaeTrainOptions train, int collisionStart = 0, Action<string>? log = null)
    {
        int n = vectors.Keys.Count, levels = model.Levels;
        var trained = RqVaeTrainer.Train(vectors.Values, n, vectors.Dim, model, train, log);
        var digits = CollisionDigits.Assign(trained.Codes, levels, vectors.Keys, trained.LatentError, collisionStart);
        var codes = new int[n * (levels + 1)];
        var byKey = new Dictionary<string, int[]>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            var id = new int[levels + 1];
            Array.Copy(trained.Codes, i * levels, id, 0, levels);
            id[levels] = digits[i];
            id.CopyTo(codes, i * (levels + 1));
            byKey[vectors.Keys[i]] = id;
        }
        return new TokenizeResult(vectors.Keys, codes, null, trained, SemanticIdStats.Of(byKey));
    }

    public static (ItemVectors Vectors, VectorBuildInfo? Info) BuildVectors(TokenizerConfig cfg, string dataRoot, Action<string>? log)
    {
        if (cfg.VectorSource == "file") return (ItemVectorReader.Read(cfg.VectorFile!), null);
        var data = cfg.Data!;
        var raw = DatasetLoader.ReadRaw(data, dataRoot);
        var (text, textInfo) = TextItemVectors.Build(raw, cfg.Text);
        if (cfg.VectorSource == "text") return (text, textInfo);
        var ds = DatasetLoader.Load(data, dataRoot).Dataset;
        var (co, coInfo) = CooccurrenceItemVectors.Build(ds, raw.Items.Keys, cfg.Cooccurrence);
        if (cfg.VectorSource == "hybrid") return (Concatenate(text, co), coInfo);
        // items no training history links to (never rated, or only in valid/test) keep their text vector
        int fallback = 0;
        for (int i = 0; i < co.Keys.Count; i++)
        {
            var row = co.Values.AsSpan(i * co.Dim, co.Dim);
            if (row.IndexOfAnyExcept(0f) >= 0) continue;
            text.Values.AsSpan(i * text.Dim, text.Dim).CopyTo(row);
            fallback++;
        }
        log?.Invoke($"co-occurrence: {fallback:N0} items without training co-occurrence use their text vector");
        return (co, coInfo with { EmptyItems = fallback });
    }

    /// <summary>[text, co-occurrence] per item, each half unit length (or zero), the whole L2-normalised.</summary>
    public static ItemVectors Concatenate(ItemVectors a, ItemVectors b)
    {
        int n = a.Keys.Count, dim = a.Dim + b.Dim;
        var values = new float[n * dim];
        for (int i = 0; i < n; i++)
        {
            var row = values.AsSpan(i * dim, dim);
            a.Of(i).CopyTo(row);
            b.Of(i).CopyTo(row[a.Dim..]);
            float norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(row));
            if (norm > 0) System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
        }
        return new ItemVectors(a.Keys, values, dim);
    }
}
