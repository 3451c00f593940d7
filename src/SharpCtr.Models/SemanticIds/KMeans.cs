using System.Numerics.Tensors;
using SharpCtr.Tensors;

namespace SharpCtr.Models.SemanticIds;

/// <summary>
/// k-means with k-means++ seeding (Arthur and Vassilvitskii 2007) and Lloyd iterations, on rows
/// of a row-major [n × d] array. Seeded and deterministic. A cluster that empties keeps its
/// centroid; the tokenizer's dead-code reset deals with codes nobody uses.
/// </summary>
public static class KMeans
{
    /// <returns>centroids [k × d] row-major.</returns>
    public static float[] Fit(float[] x, int n, int d, int k, Rng rng, int iterations = 20)
    {
        if (n == 0) throw new ArgumentException("k-means needs at least one point");
        var c = PlusPlusSeeds(x, n, d, k, rng);
        var assign = new int[n];
        var sums = new double[k * d];
        var counts = new int[k];
        for (int it = 0; it < iterations; it++)
        {
            Nearest(x, n, d, c, k, assign, null);
            Array.Clear(sums); Array.Clear(counts);
            for (int i = 0; i < n; i++)
            {
                int a = assign[i];
                counts[a]++;
                for (int j = 0; j < d; j++) sums[a * d + j] += x[i * d + j];
            }
            bool moved = false;
            for (int a = 0; a < k; a++)
            {
                if (counts[a] == 0) continue;
                for (int j = 0; j < d; j++)
                {
                    float v = (float)(sums[a * d + j] / counts[a]);
                    moved |= v != c[a * d + j];
                    c[a * d + j] = v;
                }
            }
            if (!moved) break;
        }
        return c;
    }

    /// <summary>
    /// k-means++: the first centre uniformly, each next one with probability ∝ squared distance to
    /// the nearest chosen centre. With fewer distinct points than k, the rest repeat chosen points.
    /// </summary>
    public static float[] PlusPlusSeeds(float[] x, int n, int d, int k, Rng rng)
    {
        var c = new float[k * d];
        var best = new double[n];
        int first = rng.NextInt(n);
        Array.Copy(x, first * d, c, 0, d);
        for (int i = 0; i < n; i++) best[i] = SquaredDistance(x.AsSpan(i * d, d), c.AsSpan(0, d));
        for (int m = 1; m < k; m++)
        {
            double total = 0;
            for (int i = 0; i < n; i++) total += best[i];
            int pick;
            if (total <= 0) pick = rng.NextInt(n);
            else
            {
                double u = rng.NextDouble() * total, acc = 0;
                pick = n - 1;
                for (int i = 0; i < n; i++)
                {
                    acc += best[i];
                    if (acc > u) { pick = i; break; }
                }
            }
            Array.Copy(x, pick * d, c, m * d, d);
            var cm = c.AsSpan(m * d, d);
            for (int i = 0; i < n; i++) best[i] = Math.Min(best[i], SquaredDistance(x.AsSpan(i * d, d), cm));
        }
        return c;
    }

    /// <summary>For each row of x, the index of the nearest centroid (ties: the lower index) and optionally the squared distance.</summary>
    public static void Nearest(float[] x, int n, int d, float[] centroids, int k, int[] assign, float[]? distance)
    {
        var norms = new float[k];
        for (int a = 0; a < k; a++) { var ca = centroids.AsSpan(a * d, d); norms[a] = TensorPrimitives.Dot(ca, ca); }
        for (int i = 0; i < n; i++)
        {
            var xi = x.AsSpan(i * d, d);
            float xx = TensorPrimitives.Dot(xi, xi);
            float bestD = float.PositiveInfinity;
            int bestA = 0;
            for (int a = 0; a < k; a++)
            {
                // ‖x − c‖² = ‖x‖² − 2 x·c + ‖c‖²; ‖x‖² is the same for every code, added after the search
                float dist = norms[a] - 2 * TensorPrimitives.Dot(xi, centroids.AsSpan(a * d, d));
                if (dist < bestD) { bestD = dist; bestA = a; }
            }
            assign[i] = bestA;
            if (distance != null) distance[i] = Math.Max(0, bestD + xx);
        }
    }

    public static double SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int j = 0; j < a.Length; j++) { double t = a[j] - b[j]; s += t * t; }
        return s;
    }
}
