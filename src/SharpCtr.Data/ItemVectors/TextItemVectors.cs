using SharpCtr.Data.Raw;
using SharpCtr.Data.Readers;

namespace SharpCtr.Data.Vectors;

/// <summary>How item text becomes a dense vector.</summary>
/// <param name="FieldWeights">weight of each field block (title, genre, year, category, store); a missing field weighs 1.</param>
public sealed record TextVectorOptions(int Dim = 64, int MinDocumentFrequency = 1, bool SublinearTf = false, int YearBucket = 5,
    int Oversample = 10, int PowerIterations = 4, ulong Seed = 2024, IReadOnlyDictionary<string, double>? FieldWeights = null);

/// <summary>What the reduction kept, for the report.</summary>
/// <param name="ExplainedEnergy">Σ kept σ² / ‖A‖²_F: the share of the TF-IDF matrix the vectors keep.</param>
public sealed record VectorBuildInfo(int Vocabulary, int NonZeros, double ExplainedEnergy, int EmptyItems);

/// <summary>
/// Item semantic vectors from text and attributes: field-tagged tokens → TF-IDF → each field's
/// block scaled to unit length times its weight (so twenty title words do not drown three
/// genres) → randomized SVD → rows of U·Σ, L2-normalised.
/// </summary>
public static class TextItemVectors
{
    public static (ItemVectors Vectors, VectorBuildInfo Info) Build(RawData raw, TextVectorOptions o)
    {
        var docs = ItemDocuments.From(raw, o.YearBucket);
        var tfidf = TfIdf.Fit(docs, o.MinDocumentFrequency, o.SublinearTf);
        var a = tfidf.Matrix;
        var fieldOfColumn = new int[tfidf.Vocabulary.Length];
        var weights = new double[ItemDocuments.Fields.Length + 1];
        for (int f = 0; f < ItemDocuments.Fields.Length; f++)
            weights[f] = o.FieldWeights != null && o.FieldWeights.TryGetValue(ItemDocuments.Fields[f], out var w) ? w : 1;
        weights[^1] = 1;
        for (int j = 0; j < fieldOfColumn.Length; j++)
        {
            int f = Array.IndexOf(ItemDocuments.Fields, ItemDocuments.FieldOf(tfidf.Vocabulary[j]));
            fieldOfColumn[j] = f < 0 ? ItemDocuments.Fields.Length : f;
        }
        NormalizeFieldBlocks(a, fieldOfColumn, weights);
        var (vectors, energy) = Reduce(a, raw.Items.Keys, o.Dim, o.Oversample, o.PowerIterations, o.Seed, sqrtSingular: false);
        int empty = 0;
        foreach (var d in docs) if (d.Length == 0) empty++;
        return (vectors, new VectorBuildInfo(tfidf.Vocabulary.Length, a.NonZeros, energy, empty));
    }

    /// <summary>Scales each row's entries of field f to length weights[f] (in place).</summary>
    public static void NormalizeFieldBlocks(SparseMatrix a, int[] fieldOfColumn, double[] weights)
    {
        var norms = new double[weights.Length];
        for (int i = 0; i < a.Rows; i++)
        {
            Array.Clear(norms);
            for (int e = a.RowStart[i]; e < a.RowStart[i + 1]; e++) norms[fieldOfColumn[a.Col[e]]] += a.Value[e] * a.Value[e];
            for (int e = a.RowStart[i]; e < a.RowStart[i + 1]; e++)
            {
                int f = fieldOfColumn[a.Col[e]];
                a.Value[e] *= weights[f] / Math.Sqrt(norms[f]);
            }
        }
    }

    /// <summary>
    /// Rows of U·Σ (or U·√Σ, the usual choice for a symmetric co-occurrence matrix) of a truncated
    /// randomized SVD, L2-normalised; all-zero rows stay zero. Also returns the kept energy share.
    /// </summary>
    public static (ItemVectors Vectors, double ExplainedEnergy) Reduce(SparseMatrix a, IReadOnlyList<string> keys, int dim, int oversample,
        int powerIterations, ulong seed, bool sqrtSingular)
    {
        var svd = RandomizedSvd.Compute(a, dim, oversample, powerIterations, seed);
        int n = a.Rows, k = svd.Rank;
        var values = new float[n * dim];   // dim > rank (a tiny input) leaves trailing zeros
        for (int i = 0; i < n; i++)
        {
            double norm = 0;
            for (int r = 0; r < k; r++)
            {
                double v = svd.U[r * n + i] * (sqrtSingular ? Math.Sqrt(svd.S[r]) : svd.S[r]);
                values[i * dim + r] = (float)v;
                norm += v * v;
            }
            if (norm > 0)
            {
                float inv = (float)(1 / Math.Sqrt(norm));
                for (int r = 0; r < k; r++) values[i * dim + r] *= inv;
            }
        }
        double total = 0, kept = 0;
        foreach (var v in a.Value) total += v * v;
        foreach (var s in svd.S) kept += s * s;
        return (new ItemVectors(keys.ToArray(), values, dim), total > 0 ? kept / total : 0);
    }
}
