using SharpCtr.Tensors;
using SharpCtr.Tensors.Optim;

namespace SharpCtr.Models.SemanticIds;

/// <summary>How the RQ-VAE is trained.</summary>
/// <param name="KMeansOnAllData">true: k-means initialisation on every item's latent; false: on the first batch only.</param>
public sealed record RqVaeTrainOptions(int Epochs = 300, int BatchSize = 1024, float LearningRate = 1e-3f, string Optimizer = "adam",
    bool KMeansOnAllData = true, int KMeansIterations = 20, bool DeadCodeReset = true, ulong Seed = 2024);

/// <summary>A trained tokenizer and what it does to every item.</summary>
/// <param name="Codes">[n × levels] codes of every item.</param>
/// <param name="LatentError">per item ‖z − ẑ‖²: how well its codes represent it (orders the collision digit).</param>
/// <param name="ReconstructionMse">mean squared error per element of decoder(ẑ) against the input vectors.</param>
/// <param name="ChanceMse">the same for predicting every item as the mean vector.</param>
public sealed record RqVaeResult(RqVae Model, int[] Codes, float[] LatentError, double ReconstructionMse, double ChanceMse,
    RqVaeLoss LastLoss, int DeadCodesReset);

public static class RqVaeTrainer
{
    /// <param name="x">item vectors, row-major [n × dim].</param>
    public static RqVaeResult Train(float[] x, int n, int dim, RqVaeOptions model, RqVaeTrainOptions o, Action<string>? log = null)
    {
        if (n < 1) throw new ArgumentException("no items to tokenize");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var rng = new Rng(o.Seed);
        var vae = new RqVae(dim, model, rng.Fork());
        var shuffleRng = rng.Fork();
        var kmeansRng = rng.Fork();
        var resetRng = rng.Fork();
        int batch = Math.Min(o.BatchSize, n);
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        shuffleRng.Shuffle(order.AsSpan());

        int initRows = o.KMeansOnAllData ? n : batch;
        var initX = Gather(x, dim, order.AsSpan(0, initRows));
        vae.Codebooks.InitKMeans(vae.EncodeAll(initX, initRows), initRows, kmeansRng, o.KMeansIterations);
        log?.Invoke($"k-means initialisation on {initRows:N0} latents: {clock.Elapsed.TotalSeconds:F1} s");

        var parameters = vae.Parameters().Select(p => p.Value).ToList();
        Optimizer opt = o.Optimizer switch
        {
            "adam" => new Adam(parameters, o.LearningRate),
            "adagrad" => new Adagrad(parameters, o.LearningRate),
            _ => throw new ArgumentException($"optimizer must be adam or adagrad, got '{o.Optimizer}'"),
        };
        var used = new bool[model.Levels][];
        for (int l = 0; l < model.Levels; l++) used[l] = new bool[model.CodebookSize];
        RqVaeLoss last = default;
        int resets = 0;
        int logEvery = Math.Max(1, o.Epochs / 10);
        for (int epoch = 0; epoch < o.Epochs; epoch++)
        {
            shuffleRng.Shuffle(order.AsSpan());
            foreach (var u in used) Array.Clear(u);
            Quantized? lastQ = null;
            for (int s = 0; s < n; s += batch)
            {
                int m = Math.Min(batch, n - s);
                var xb = Tensor.FromArray(Gather(x, dim, order.AsSpan(s, m)), m, dim);
                using (var tape = Tape.Train())
                {
                    var (loss, parts, q) = vae.Forward(xb);
                    tape.Backward(loss);
                    opt.Step();
                    opt.ZeroGrad();
                    last = parts;
                    lastQ = q;
                }
                for (int l = 0; l < model.Levels; l++)
                {
                    if (model.EmaUpdates) vae.Codebooks.EmaUpdate(l, lastQ);
                    for (int i = 0; i < m; i++) used[l][lastQ.Codes[i * model.Levels + l]] = true;
                }
            }
            if (o.DeadCodeReset && epoch < o.Epochs - 1 && lastQ != null)
                for (int l = 0; l < model.Levels; l++) resets += vae.Codebooks.ResetDeadCodes(l, used[l], lastQ, resetRng);
            if (log != null && (epoch % logEvery == 0 || epoch == o.Epochs - 1))
                log($"epoch {epoch + 1}/{o.Epochs}: loss {last.Total:F5} (reconstruction {last.Reconstruction:F5}, commitment {last.Commitment:F5}" +
                    (model.EmaUpdates ? "" : $", codebook {last.Codebook:F5}") + $"), codes used " +
                    string.Join("/", used.Select(u => u.Count(b => b))) + $", dead codes reset so far {resets} ({clock.Elapsed.TotalSeconds:F0} s)");
        }

        vae.Eval();
        var z = vae.EncodeAll(x, n);
        var final = vae.Codebooks.Quantize(z, n);
        var zq = final.Cumulative[^1];
        var xhat = vae.DecodeAll(zq, n);
        var latentError = new float[n];
        int d = model.LatentDim;
        for (int i = 0; i < n; i++)
            latentError[i] = (float)KMeans.SquaredDistance(z.AsSpan(i * d, d), zq.AsSpan(i * d, d));
        return new RqVaeResult(vae, final.Codes, latentError, MeanSquaredError(x, xhat), ChanceMse(x, n, dim), last, resets);
    }

    static float[] Gather(float[] x, int dim, ReadOnlySpan<int> rows)
    {
        var b = new float[rows.Length * dim];
        for (int i = 0; i < rows.Length; i++) Array.Copy(x, rows[i] * dim, b, i * dim, dim);
        return b;
    }

    public static double MeanSquaredError(float[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) { double t = a[i] - b[i]; s += t * t; }
        return s / Math.Max(1, a.Length);
    }

    /// <summary>The error of the best constant guess: every item predicted as the mean vector.</summary>
    public static double ChanceMse(float[] x, int n, int dim)
    {
        var mean = new double[dim];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < dim; j++) mean[j] += x[i * dim + j];
        for (int j = 0; j < dim; j++) mean[j] /= n;
        double s = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < dim; j++) { double t = x[i * dim + j] - mean[j]; s += t * t; }
        return s / Math.Max(1, (long)n * dim);
    }
}
