using SharpCtr.Tensors;

namespace SharpCtr.Training.Evaluation;

/// <summary>
/// Exact t-SNE (van der Maaten and Hinton 2008) for a few thousand points: Gaussian affinities
/// with each point's bandwidth set by binary search to the requested perplexity, symmetrised;
/// Student-t affinities in 2-D; gradient descent on KL(P‖Q) with momentum, per-coordinate gains
/// and early exaggeration, as in the paper's reference implementation. O(N²) memory and time per
/// iteration — fine for the ≤ 3,000 points a figure shows; no Barnes–Hut.
/// </summary>
public static class TSne
{
    public sealed record Options(double Perplexity = 30, int Iterations = 1000, double LearningRate = 200,
        double Exaggeration = 12, int ExaggerationIterations = 250, ulong Seed = 1);

    /// <summary>[N, 2] coordinates of the N rows of <paramref name="x"/> ([N, dim], row-major).</summary>
    public static double[,] Embed(float[] x, int n, int dim, Options? options = null)
    {
        var o = options ?? new Options();
        if (n < 4) throw new ArgumentException($"t-SNE needs at least 4 points, got {n}");
        if (o.Perplexity >= n - 1) throw new ArgumentException($"perplexity {o.Perplexity} must be below the number of points minus one ({n - 1})");
        var p = JointAffinities(SquaredDistances(x, n, dim), n, o.Perplexity);
        var rng = new Rng(o.Seed);
        var y = new double[n, 2];
        for (int i = 0; i < n; i++) { y[i, 0] = 1e-4 * rng.NextNormal(); y[i, 1] = 1e-4 * rng.NextNormal(); }
        var velocity = new double[n, 2];
        var gains = new double[n, 2];
        for (int i = 0; i < n; i++) { gains[i, 0] = 1; gains[i, 1] = 1; }
        var grad = new double[n, 2];
        for (int it = 0; it < o.Iterations; it++)
        {
            double exaggeration = it < o.ExaggerationIterations ? o.Exaggeration : 1;
            double momentum = it < o.ExaggerationIterations ? 0.5 : 0.8;
            Gradient(p, y, n, exaggeration, grad);
            for (int i = 0; i < n; i++)
                for (int d = 0; d < 2; d++)
                {
                    // delta-bar-delta: grow a coordinate's step while the gradient keeps its sign against the motion
                    gains[i, d] = Math.Sign(grad[i, d]) != Math.Sign(velocity[i, d]) ? gains[i, d] + 0.2 : Math.Max(0.01, gains[i, d] * 0.8);
                    velocity[i, d] = momentum * velocity[i, d] - o.LearningRate * gains[i, d] * grad[i, d];
                    y[i, d] += velocity[i, d];
                }
            Center(y, n);
        }
        return y;
    }

    static void Center(double[,] y, int n)
    {
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++) { mx += y[i, 0]; my += y[i, 1]; }
        mx /= n; my /= n;
        for (int i = 0; i < n; i++) { y[i, 0] -= mx; y[i, 1] -= my; }
    }

    public static double[] SquaredDistances(float[] x, int n, int dim)
    {
        var d = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < dim; k++) { double t = x[i * dim + k] - x[j * dim + k]; s += t * t; }
                d[i * n + j] = d[j * n + i] = s;
            }
        return d;
    }

    /// <summary>
    /// P [N, N]: row i is a Gaussian over the other points whose bandwidth gives entropy log(perplexity)
    /// (binary search on the precision), then P = (P + Pᵀ) / 2N so that all entries sum to 1.
    /// </summary>
    public static double[] JointAffinities(double[] distances, int n, double perplexity)
    {
        var p = ConditionalAffinities(distances, n, perplexity);
        var joint = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                joint[i * n + j] = Math.Max((p[i * n + j] + p[j * n + i]) / (2.0 * n), 1e-12);
        return joint;
    }

    public static double[] ConditionalAffinities(double[] distances, int n, double perplexity)
    {
        var p = new double[n * n];
        double target = Math.Log(perplexity);
        for (int i = 0; i < n; i++)
        {
            double beta = 1, lo = double.NegativeInfinity, hi = double.PositiveInfinity;
            for (int step = 0; step < 100; step++)
            {
                double entropy = Row(distances, p, n, i, beta);
                if (Math.Abs(entropy - target) < 1e-6) break;
                if (entropy > target) { lo = beta; beta = double.IsPositiveInfinity(hi) ? beta * 2 : (beta + hi) / 2; }
                else { hi = beta; beta = double.IsNegativeInfinity(lo) ? beta / 2 : (beta + lo) / 2; }
            }
        }
        return p;
    }

    /// <summary>Fills row i of P for precision β and returns its entropy (nats).</summary>
    static double Row(double[] distances, double[] p, int n, int i, double beta)
    {
        // shift by the nearest neighbour's distance so that exp never underflows to an all-zero row
        double min = double.PositiveInfinity;
        for (int j = 0; j < n; j++) if (j != i) min = Math.Min(min, distances[i * n + j]);
        double sum = 0, weighted = 0;
        for (int j = 0; j < n; j++)
        {
            if (j == i) { p[i * n + j] = 0; continue; }
            double v = Math.Exp(-beta * (distances[i * n + j] - min));
            p[i * n + j] = v;
            sum += v;
            weighted += v * (distances[i * n + j] - min);
        }
        for (int j = 0; j < n; j++) p[i * n + j] /= sum;
        return Math.Log(sum) + beta * weighted / sum;
    }

    /// <summary>KL(P‖Q) of a layout y — the objective whose gradient <see cref="Gradient"/> computes (tests check one against the other).</summary>
    public static double KlDivergence(double[] p, double[,] y, int n)
    {
        var num = StudentT(y, n, out double z);
        double kl = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j) kl += p[i * n + j] * Math.Log(p[i * n + j] / Math.Max(num[i * n + j] / z, 1e-300));
        return kl;
    }

    /// <summary>∂KL/∂y_i = 4 Σ_j (e·p_ij − q_ij) (y_i − y_j) / (1 + |y_i − y_j|²), with exaggeration e on P.</summary>
    public static void Gradient(double[] p, double[,] y, int n, double exaggeration, double[,] grad)
    {
        var num = StudentT(y, n, out double z);
        for (int i = 0; i < n; i++)
        {
            double gx = 0, gy = 0;
            for (int j = 0; j < n; j++)
            {
                if (i == j) continue;
                double w = num[i * n + j];
                double f = (exaggeration * p[i * n + j] - w / z) * w;
                gx += f * (y[i, 0] - y[j, 0]);
                gy += f * (y[i, 1] - y[j, 1]);
            }
            grad[i, 0] = 4 * gx;
            grad[i, 1] = 4 * gy;
        }
    }

    /// <summary>1 / (1 + |y_i − y_j|²) for every pair (0 on the diagonal), and their sum Z.</summary>
    static double[] StudentT(double[,] y, int n, out double z)
    {
        var num = new double[n * n];
        z = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                double dx = y[i, 0] - y[j, 0], dy = y[i, 1] - y[j, 1];
                double v = 1 / (1 + dx * dx + dy * dy);
                num[i * n + j] = num[j * n + i] = v;
                z += 2 * v;
            }
        return num;
    }
}
