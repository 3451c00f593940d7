namespace SharpCtr.Data.Vectors;

/// <summary>
/// TF-IDF over token lists, as scikit-learn's TfidfVectorizer defaults: raw term counts (or
/// 1 + ln count when sublinear), smoothed idf = ln((1 + n) / (1 + df)) + 1. Row normalisation is
/// left to the caller, which normalises per field block.
/// </summary>
public sealed class TfIdf
{
    public readonly string[] Vocabulary;
    public readonly double[] Idf;
    public readonly SparseMatrix Matrix;

    TfIdf(string[] vocabulary, double[] idf, SparseMatrix matrix) { Vocabulary = vocabulary; Idf = idf; Matrix = matrix; }

    /// <param name="minDocumentFrequency">tokens in fewer documents are dropped (they cannot link items).</param>
    public static TfIdf Fit(IReadOnlyList<string[]> documents, int minDocumentFrequency = 1, bool sublinearTf = false)
    {
        int n = documents.Count;
        var df = new Dictionary<string, int>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var doc in documents)
        {
            seen.Clear();
            foreach (var t in doc)
                if (seen.Add(t)) df[t] = df.GetValueOrDefault(t) + 1;
        }
        // vocabulary in ordinal order: the column order must not depend on hash order
        var vocab = df.Where(kv => kv.Value >= minDocumentFrequency).Select(kv => kv.Key).OrderBy(t => t, StringComparer.Ordinal).ToArray();
        var column = new Dictionary<string, int>(StringComparer.Ordinal);
        var idf = new double[vocab.Length];
        for (int j = 0; j < vocab.Length; j++)
        {
            column[vocab[j]] = j;
            idf[j] = Math.Log((1.0 + n) / (1.0 + df[vocab[j]])) + 1;
        }
        var start = new int[n + 1];
        var cols = new List<int>();
        var vals = new List<double>();
        var counts = new SortedDictionary<int, int>();
        for (int i = 0; i < n; i++)
        {
            counts.Clear();
            foreach (var t in documents[i])
                if (column.TryGetValue(t, out var j)) counts[j] = counts.GetValueOrDefault(j) + 1;
            foreach (var (j, c) in counts)
            {
                cols.Add(j);
                vals.Add((sublinearTf ? 1 + Math.Log(c) : c) * idf[j]);
            }
            start[i + 1] = cols.Count;
        }
        return new TfIdf(vocab, idf, new SparseMatrix(n, vocab.Length, start, cols.ToArray(), vals.ToArray()));
    }
}
