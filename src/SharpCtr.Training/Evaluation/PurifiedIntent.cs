using SharpCtr.Data.Batching;
using SharpCtr.Data.Encoded;
using SharpCtr.Data.Readers;
using SharpCtr.Models.Diffusion;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;
using SharpCtr.Tensors.Optim;

namespace SharpCtr.Training.Evaluation;

/// <summary>
/// How close CDP's vectors are to the synthetic generator's true intent (the leaf category the
/// request was drawn from, truth.jsonl), for the raw pooled history x0 and the purified h:
/// (1) a linear probe: softmax regression vector → true-intent leaf, fitted on the validation
/// rows and scored (accuracy) on the test rows — a learned map from each space to the truth;
/// (2) cosine to the true leaf's centroid (mean item embedding of the leaf, layer-normalised
/// like x0) and how often the nearest centroid is the true leaf.
/// </summary>
public static class PurifiedIntent
{
    public sealed record Scores(double ProbeAccuracy, double CentroidCosine, double NearestCentroidAccuracy);
    public sealed record Result(Scores Raw, Scores Purified, int ProbeTrainRows, int TestRows, int Leaves, double MajorityAccuracy);

    public static Result Measure(Cdp model, EncodedDataset data, IReadOnlyDictionary<int, RequestTruth> truth,
        string itemField, string categoryField, int seed = 1)
    {
        var catVocab = data.Vocabulary(data.Field(categoryField).Source);
        var (validRows, validLeaf) = Labelled(data, data.Indices(Splits.Valid), truth, catVocab);
        var (testRows, testLeaf) = Labelled(data, data.Indices(Splits.Test), truth, catVocab);
        var (vx0, vh) = Vectors(model, data, validRows);
        var (tx0, th) = Vectors(model, data, testRows);
        int dim = model.Purifier.Denoiser.Dim, leaves = catVocab.Size;
        var centroids = Centroids(model, data, itemField, categoryField, leaves, dim);
        var counts = new int[leaves];
        foreach (var l in validLeaf) counts[l]++;
        int majority = Array.IndexOf(counts, counts.Max());
        double majorityAcc = testLeaf.Count(l => l == majority) / (double)Math.Max(1, testLeaf.Length);
        return new Result(
            Score(vx0, validLeaf, tx0, testLeaf, centroids, dim, leaves, seed),
            Score(vh, validLeaf, th, testLeaf, centroids, dim, leaves, seed),
            validRows.Length, testRows.Length, leaves, majorityAcc);
    }

    static (int[] Rows, int[] Leaf) Labelled(EncodedDataset data, int[] rows, IReadOnlyDictionary<int, RequestTruth> truth, Data.Schema.Vocabulary vocab)
    {
        var keep = new List<int>();
        var leaf = new List<int>();
        foreach (var r in rows)
        {
            if (!truth.TryGetValue(data.GroupRequestIds[data.Group[r]], out var t) || t.TrueIntent is null) continue;
            int id = vocab.Id(t.TrueIntent);
            if (id < 2) continue;
            keep.Add(r);
            leaf.Add(id);
        }
        return (keep.ToArray(), leaf.ToArray());
    }

    static (float[] X0, float[] H) Vectors(Cdp model, EncodedDataset data, int[] rows)
    {
        int dim = model.Purifier.Denoiser.Dim;
        var x0 = new float[rows.Length * dim];
        var h = new float[rows.Length * dim];
        const int size = 2048;
        var batch = new Batch(data, size);
        for (int start = 0; start < rows.Length; start += size)
        {
            int n = Math.Min(size, rows.Length - start);
            var b = n == size ? batch : new Batch(data, n);
            b.Fill(data, rows.AsSpan(start, n));
            var (bx, bh) = model.Purify(b);
            Array.Copy(bx, 0, x0, start * dim, n * dim);
            Array.Copy(bh, 0, h, start * dim, n * dim);
        }
        return (x0, h);
    }

    /// <summary>[leaves, dim]: the layer-normalised mean embedding of each leaf's items (zero rows for leaves without items).</summary>
    static float[] Centroids(Cdp model, EncodedDataset data, string itemField, string categoryField, int leaves, int dim)
    {
        var table = model.Parameters().First(p => p.Name == $"embeddings.table.{data.Field(itemField).Source}.weight").Value;
        var items = data.Field(itemField).Ids;
        var cats = data.Field(categoryField).Ids;
        var sum = new double[leaves * dim];
        var count = new int[leaves];
        var seen = new HashSet<int>();
        for (int i = 0; i < items.Length; i++)
        {
            if (!seen.Add(items[i])) continue;
            count[cats[i]]++;
            for (int k = 0; k < dim; k++) sum[cats[i] * dim + k] += table.Data[items[i] * dim + k];
        }
        var c = new float[leaves * dim];
        for (int l = 0; l < leaves; l++)
        {
            if (count[l] == 0) continue;
            double mean = 0, var = 0;
            for (int k = 0; k < dim; k++) mean += sum[l * dim + k] / count[l];
            mean /= dim;
            for (int k = 0; k < dim; k++) { double v = sum[l * dim + k] / count[l] - mean; var += v * v; }
            double inv = 1 / Math.Sqrt(var / dim + 1e-5);
            for (int k = 0; k < dim; k++) c[l * dim + k] = (float)((sum[l * dim + k] / count[l] - mean) * inv);
        }
        return c;
    }

    static Scores Score(float[] fitX, int[] fitLeaf, float[] testX, int[] testLeaf, float[] centroids, int dim, int leaves, int seed)
    {
        var probe = FitProbe(fitX, fitLeaf, dim, leaves, seed);
        int correct = 0, nearestCorrect = 0;
        double cosSum = 0;
        for (int r = 0; r < testLeaf.Length; r++)
        {
            var x = testX.AsSpan(r * dim, dim);
            int best = 0, nearest = 0;
            double bestScore = double.NegativeInfinity, bestCos = double.NegativeInfinity;
            for (int l = 0; l < leaves; l++)
            {
                double s = probe.Bias!.Data[l];   // Linear weights are [in, out]
                for (int k = 0; k < dim; k++) s += probe.Weight.Data[k * leaves + l] * x[k];
                if (s > bestScore) { bestScore = s; best = l; }
                var cl = centroids.AsSpan(l * dim, dim);
                double cos = Cosine(x, cl);
                if (cos > bestCos) { bestCos = cos; nearest = l; }
                if (l == testLeaf[r]) cosSum += cos;
            }
            if (best == testLeaf[r]) correct++;
            if (nearest == testLeaf[r]) nearestCorrect++;
        }
        int n = Math.Max(1, testLeaf.Length);
        return new Scores(correct / (double)n, cosSum / n, nearestCorrect / (double)n);
    }

    static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double ab = 0, aa = 0, bb = 0;
        for (int k = 0; k < a.Length; k++) { ab += a[k] * b[k]; aa += a[k] * a[k]; bb += b[k] * b[k]; }
        return aa == 0 || bb == 0 ? 0 : ab / Math.Sqrt(aa * bb);
    }

    /// <summary>Multinomial logistic regression, full batch, 300 Adam steps.</summary>
    static Linear FitProbe(float[] x, int[] leaf, int dim, int leaves, int seed)
    {
        int n = leaf.Length;
        var probe = new Linear(dim, leaves, new Rng((ulong)seed));
        var input = Tensor.FromArray((float[])x.Clone(), n, dim);
        var adam = new Adam(probe.Parameters().Select(p => p.Value), learningRate: 0.05f);
        for (int step = 0; step < 300; step++)
        {
            using (var tape = Tape.Train()) tape.Backward(Ops.CrossEntropy(probe.Forward(input), leaf));
            adam.Step();
            adam.ZeroGrad();
        }
        return probe;
    }
}
