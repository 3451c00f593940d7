using SharpCtr.Data.Batching;
using SharpCtr.Data.Encoded;
using SharpCtr.Models.Generative;
using SharpCtr.Tensors;
using SharpCtr.Training.Reports;

namespace SharpCtr.Training.Evaluation;

/// <summary>
/// GenCI's Figure 4: long-term intents, short-term intents and target items of clicked test rows
/// (one per user, users drawn by seed) laid out together by t-SNE, and the two numbers the
/// picture is meant to show, measured in the model's own space rather than read off a plot: how
/// much closer a short-term intent is to its own target than to other rows' targets, and how
/// spread out each kind is around its centroid (relative to its mean norm).
/// </summary>
public static class IntentLayout
{
    public static readonly string[] Kinds = ["long-term intent", "short-term intent", "target item"];

    /// <param name="Points">[3N, D]: N long-term intents, then N short-term intents, then N targets.</param>
    public sealed record Result(float[] Points, int Rows, int Dim, double[,] Layout,
        double OwnTargetCosine, double OtherTargetCosine, double OwnTargetRank, double LayoutOwnTargetRank, double[] RelativeSpread, double[] LayoutSameKindNeighbour);

    public static Result Measure(GenCi model, EncodedDataset data, int rows, TSne.Options tsne, ulong seed = 1)
    {
        var chosen = OneClickPerUser(data, rows, seed);
        if (chosen.Length < 4) throw new ArgumentException($"only {chosen.Length} users have a clicked test row; t-SNE needs at least 4");
        var batch = new Batch(data, chosen.Length);
        batch.Fill(data, chosen);
        model.Eval();
        float[] points;
        int n = chosen.Length, d;
        using (Tape.Inference())
        {
            var (lt, st, target) = model.Intents(batch);
            d = lt.Shape[1];
            points = [.. lt.Data.AsSpan(0, n * d), .. st.Data.AsSpan(0, n * d), .. target.Data.AsSpan(0, n * d)];
        }
        double own = 0, other = 0;
        for (int i = 0; i < n; i++)
        {
            own += Cosine(points, n + i, 2 * n + i, d);
            other += Cosine(points, n + i, 2 * n + (i + 1) % n, d);   // the next row's target: another user's click
        }
        var spread = new double[3];
        for (int k = 0; k < 3; k++) spread[k] = RelativeSpread(points, k * n, n, d);
        var layout = TSne.Embed(points, 3 * n, d, tsne);
        var flat = new float[3 * n * 2];
        for (int i = 0; i < 3 * n; i++) { flat[2 * i] = (float)layout[i, 0]; flat[2 * i + 1] = (float)layout[i, 1]; }
        return new Result(points, n, d, layout, own / n, other / n, OwnTargetRank(points, n, d), OwnTargetRank(flat, n, 2), spread, SameKindNeighbour(flat, n));
    }

    /// <summary>The first clicked test row of up to <paramref name="rows"/> users, drawn in a seeded random order.</summary>
    static int[] OneClickPerUser(EncodedDataset data, int rows, ulong seed)
    {
        var firstClick = new Dictionary<int, int>();
        foreach (int i in data.Indices(Splits.Test))
            if (data.Labels[i] > 0.5f) firstClick.TryAdd(data.User[i], i);
        var picks = firstClick.Values.Order().ToArray();
        new Rng(seed).Shuffle(picks.AsSpan());
        return picks.Take(rows).Order().ToArray();   // sample order keeps a user's rows together, as batches expect
    }

    /// <summary>
    /// Where each short-term intent's own target ranks among all N targets by Euclidean distance,
    /// as a fraction of N − 1 (0: nearest of all; 0.5: no better than chance), averaged over rows.
    /// </summary>
    static double OwnTargetRank(float[] x, int n, int d)
    {
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double own = Distance(x, n + i, 2 * n + i, d);
            int closer = 0;
            for (int j = 0; j < n; j++) if (j != i && Distance(x, n + i, 2 * n + j, d) < own) closer++;
            sum += closer / (double)(n - 1);
        }
        return sum / n;
    }

    /// <summary>Per kind, the share of its points whose nearest other point in the layout is of the same kind (how separate the kinds lie).</summary>
    static double[] SameKindNeighbour(float[] layout, int n)
    {
        var share = new double[3];
        for (int i = 0; i < 3 * n; i++)
        {
            int nearest = -1;
            double best = double.MaxValue;
            for (int j = 0; j < 3 * n; j++)
                if (j != i && Distance(layout, i, j, 2) is var dist && dist < best) { best = dist; nearest = j; }
            if (nearest / n == i / n) share[i / n] += 1.0 / n;
        }
        return share;
    }

    static double Distance(float[] x, int a, int b, int d)
    {
        double s = 0;
        for (int k = 0; k < d; k++) { double t = x[a * d + k] - x[b * d + k]; s += t * t; }
        return s;
    }

    static double Cosine(float[] x, int a, int b, int d)
    {
        double dot = 0, na = 0, nb = 0;
        for (int k = 0; k < d; k++) { dot += x[a * d + k] * x[b * d + k]; na += x[a * d + k] * x[a * d + k]; nb += x[b * d + k] * x[b * d + k]; }
        return dot / Math.Sqrt(Math.Max(na * nb, 1e-30));
    }

    /// <summary>Mean distance of rows [from, from+n) to their centroid, over their mean norm.</summary>
    static double RelativeSpread(float[] x, int from, int n, int d)
    {
        var c = new double[d];
        for (int i = from; i < from + n; i++) for (int k = 0; k < d; k++) c[k] += x[i * d + k] / (double)n;
        double dist = 0, norm = 0;
        for (int i = from; i < from + n; i++)
        {
            double s = 0, t = 0;
            for (int k = 0; k < d; k++) { double v = x[i * d + k] - c[k]; s += v * v; t += (double)x[i * d + k] * x[i * d + k]; }
            dist += Math.Sqrt(s); norm += Math.Sqrt(t);
        }
        return dist / Math.Max(norm, 1e-30);
    }

    public static SvgScatter Figure(Result r, string title)
    {
        int n = r.Rows;
        var x = new double[3 * n];
        var y = new double[3 * n];
        var classes = new int[3 * n];
        for (int i = 0; i < 3 * n; i++) { x[i] = r.Layout[i, 0]; y[i] = r.Layout[i, 1]; classes[i] = i / n; }
        return new SvgScatter { Title = title, XLabel = "t-SNE 1", YLabel = "t-SNE 2", X = x, Y = y, Classes = classes, ClassNames = Kinds };
    }
}
