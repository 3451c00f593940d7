using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.SemanticIds;

/// <summary>One pass of residual quantization over a batch (row-major arrays, n rows of width d).</summary>
/// <param name="Codes">[n × levels]: the code chosen at each level.</param>
/// <param name="Residuals">per level, the residual that level quantized (level 0: z itself).</param>
/// <param name="Cumulative">per level, the sum of the chosen codewords up to and including that level.</param>
public sealed record Quantized(int[] Codes, float[][] Residuals, float[][] Cumulative, int Rows);

/// <summary>
/// N residual codebooks of K codewords: level n picks the codeword nearest to what the levels
/// before it left unexplained, r_{n+1} = r_n − c_{z_n}. Codewords learn either by exponential
/// moving averages of the residuals assigned to them (VQ-VAE's EMA rule, the authors' choice) or
/// by gradient descent on the codebook loss (then they are parameters).
/// </summary>
public sealed class ResidualCodebooks : Module
{
    public readonly int Levels, Size, Dim;
    public readonly bool Ema;
    public readonly float Decay;
    /// <summary>Laplace smoothing of the EMA counts, so a code with no recent use does not divide by zero.</summary>
    public const float Epsilon = 1e-5f;
    public readonly Tensor[] Codebooks;   // [Size, Dim] per level
    readonly Tensor[] emaCount;           // [Size] per level
    readonly Tensor[] emaSum;             // [Size, Dim] per level

    public ResidualCodebooks(int levels, int size, int dim, bool ema, float decay)
    {
        if (levels < 1 || size < 1 || dim < 1) throw new ArgumentException($"codebooks need levels, size and dim ≥ 1 (got {levels}, {size}, {dim})");
        Levels = levels; Size = size; Dim = dim; Ema = ema; Decay = decay;
        Codebooks = new Tensor[levels];
        emaCount = new Tensor[levels];
        emaSum = new Tensor[levels];
        for (int l = 0; l < levels; l++)
        {
            Codebooks[l] = ema ? Tensor.Zeros(size, dim) : Tensor.Parameter("codebook", size, dim);
            emaCount[l] = Tensor.Full(1f, size);
            emaSum[l] = Tensor.Zeros(size, dim);
        }
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters()
    {
        if (Ema) yield break;
        for (int l = 0; l < Levels; l++) yield return ($"codebook.{l}", Codebooks[l]);
    }

    protected override IEnumerable<(string, Tensor)> LocalBuffers()
    {
        for (int l = 0; l < Levels; l++)
        {
            if (Ema) yield return ($"codebook.{l}", Codebooks[l]);
            yield return ($"ema_count.{l}", emaCount[l]);
            yield return ($"ema_sum.{l}", emaSum[l]);
        }
    }

    /// <summary>k-means on the latents, then on what each level leaves: every codebook starts at the centroids of its own residuals.</summary>
    public void InitKMeans(float[] z, int n, Rng rng, int iterations)
    {
        var residual = (float[])z.Clone();
        var assign = new int[n];
        for (int l = 0; l < Levels; l++)
        {
            var c = KMeans.Fit(residual, n, Dim, Size, rng, iterations);
            c.CopyTo(Codebooks[l].Data, 0);
            c.CopyTo(emaSum[l].Data, 0);
            Array.Fill(emaCount[l].Data, 1f);
            KMeans.Nearest(residual, n, Dim, c, Size, assign, null);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < Dim; j++) residual[i * Dim + j] -= c[assign[i] * Dim + j];
        }
    }

    public Quantized Quantize(float[] z, int n)
    {
        var codes = new int[n * Levels];
        var residuals = new float[Levels][];
        var cumulative = new float[Levels][];
        var r = (float[])z.Clone();
        var sum = new float[n * Dim];
        var assign = new int[n];
        for (int l = 0; l < Levels; l++)
        {
            residuals[l] = (float[])r.Clone();
            var c = Codebooks[l].Data;
            KMeans.Nearest(r, n, Dim, c, Size, assign, null);
            for (int i = 0; i < n; i++)
            {
                codes[i * Levels + l] = assign[i];
                int o = assign[i] * Dim;
                for (int j = 0; j < Dim; j++)
                {
                    r[i * Dim + j] -= c[o + j];
                    sum[i * Dim + j] += c[o + j];
                }
            }
            cumulative[l] = (float[])sum.Clone();
        }
        return new Quantized(codes, residuals, cumulative, n);
    }

    /// <summary>
    /// N_k ← γN_k + (1−γ)n_k, m_k ← γm_k + (1−γ)Σ_{i→k} r_i, e_k = m_k / Ñ_k with Ñ the
    /// Laplace-smoothed counts (the VQ-VAE paper's appendix rule).
    /// </summary>
    public void EmaUpdate(int level, Quantized q)
    {
        int n = q.Rows;
        var count = emaCount[level].Data;
        var sum = emaSum[level].Data;
        var batchCount = new float[Size];
        var batchSum = new float[Size * Dim];
        var r = q.Residuals[level];
        for (int i = 0; i < n; i++)
        {
            int k = q.Codes[i * Levels + level];
            batchCount[k]++;
            for (int j = 0; j < Dim; j++) batchSum[k * Dim + j] += r[i * Dim + j];
        }
        double total = 0;
        for (int k = 0; k < Size; k++)
        {
            count[k] = Decay * count[k] + (1 - Decay) * batchCount[k];
            total += count[k];
        }
        for (int k = 0; k < Size * Dim; k++) sum[k] = Decay * sum[k] + (1 - Decay) * batchSum[k];
        var e = Codebooks[level].Data;
        for (int k = 0; k < Size; k++)
        {
            float smoothed = (float)((count[k] + Epsilon) / (total + Size * Epsilon) * total);
            for (int j = 0; j < Dim; j++) e[k * Dim + j] = sum[k * Dim + j] / smoothed;
        }
    }

    /// <summary>Codes of this level nobody used get a random residual of the batch; returns how many were reset.</summary>
    public int ResetDeadCodes(int level, bool[] used, Quantized q, Rng rng)
    {
        int reset = 0;
        var e = Codebooks[level].Data;
        var r = q.Residuals[level];
        for (int k = 0; k < Size; k++)
        {
            if (used[k]) continue;
            int row = rng.NextInt(q.Rows);
            Array.Copy(r, row * Dim, e, k * Dim, Dim);
            Array.Copy(r, row * Dim, emaSum[level].Data, k * Dim, Dim);
            emaCount[level].Data[k] = 1f;
            reset++;
        }
        return reset;
    }
}
