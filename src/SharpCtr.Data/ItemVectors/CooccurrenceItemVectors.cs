using SharpCtr.Data.Encoded;
using SharpCtr.Data.Readers;

namespace SharpCtr.Data.Vectors;

/// <summary>How collaborative item vectors are made.</summary>
/// <param name="Window">two positives of a user co-occur when at most this many positions apart.</param>
public sealed record CooccurrenceOptions(int Dim = 64, int Window = 10, int Oversample = 10, int PowerIterations = 4, ulong Seed = 2024);

/// <summary>
/// Collaborative item vectors: positive pairs within a window of each user's training history
/// (training split only, so no validation/test interaction shapes the IDs) → positive pointwise
/// mutual information → randomized SVD → rows of U·√Σ, L2-normalised. Items with no training
/// co-occurrence get a zero vector (the caller decides the fallback).
/// </summary>
public static class CooccurrenceItemVectors
{
    public static (ItemVectors Vectors, VectorBuildInfo Info) Build(EncodedDataset ds, IReadOnlyList<string> itemKeys, CooccurrenceOptions o)
    {
        var itemField = ds.Fields.Find(f => f.Source == "item_id") ?? throw new InvalidOperationException($"data set '{ds.Name}' has no field with source item_id");
        var vocab = ds.Vocabulary("item_id");
        var rowOfKey = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < itemKeys.Count; i++) rowOfKey[itemKeys[i]] = i;
        var rowOfId = new int[vocab.Size];
        for (int id = 0; id < rowOfId.Length; id++) rowOfId[id] = vocab.Token(id) is { } key && rowOfKey.TryGetValue(key, out var r) ? r : -1;

        int n = itemKeys.Count;
        var pairs = new Dictionary<int, double>[n];
        for (int i = 0; i < n; i++) pairs[i] = new();
        var history = new List<int>();
        int user = -1;
        for (int s = 0; s < ds.Count; s++)
        {
            if (ds.Split[s] != Splits.Train || ds.Labels[s] < 0.5f) continue;
            if (ds.User[s] != user) { user = ds.User[s]; history.Clear(); }
            int item = rowOfId[itemField.Ids[s * itemField.Width]];
            if (item < 0) continue;
            for (int b = Math.Max(0, history.Count - o.Window); b < history.Count; b++)
            {
                int other = history[b];
                if (other == item) continue;
                pairs[item][other] = pairs[item].GetValueOrDefault(other) + 1;
                pairs[other][item] = pairs[other].GetValueOrDefault(item) + 1;
            }
            history.Add(item);
        }
        var a = Ppmi(pairs, n);
        var (vectors, energy) = TextItemVectors.Reduce(a, itemKeys, o.Dim, o.Oversample, o.PowerIterations, o.Seed, sqrtSingular: true);
        int empty = 0;
        foreach (var p in pairs) if (p.Count == 0) empty++;
        return (vectors, new VectorBuildInfo(n, a.NonZeros, energy, empty));
    }

    /// <summary>PPMI(i, j) = max(0, ln(c_ij · total / (c_i · c_j))) over symmetric pair counts.</summary>
    public static SparseMatrix Ppmi(Dictionary<int, double>[] pairs, int n)
    {
        var rowSum = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            foreach (var c in pairs[i].Values) rowSum[i] += c;
            total += rowSum[i];
        }
        var start = new int[n + 1];
        var cols = new List<int>();
        var vals = new List<double>();
        for (int i = 0; i < n; i++)
        {
            var keys = pairs[i].Keys.ToArray();
            Array.Sort(keys);
            foreach (var j in keys)
            {
                double pmi = Math.Log(pairs[i][j] * total / (rowSum[i] * rowSum[j]));
                if (pmi > 0) { cols.Add(j); vals.Add(pmi); }
            }
            start[i + 1] = cols.Count;
        }
        return new SparseMatrix(n, n, start, cols.ToArray(), vals.ToArray());
    }
}
