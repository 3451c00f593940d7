using SharpCtr.Tensors;

namespace SharpCtr.Data.Vectors;

/// <summary>
/// Truncated SVD of a large sparse matrix by the randomized range finder (Halko, Martinsson and
/// Tropp 2011): multiply by a seeded Gaussian test matrix, sharpen the captured range with power
/// iterations (re-orthonormalising in between so small singular directions are not lost to
/// rounding), then take the exact SVD of the small projected matrix.
/// </summary>
public static class RandomizedSvd
{
    public static Svd Compute(SparseMatrix a, int rank, int oversample = 10, int powerIterations = 4, ulong seed = 0)
    {
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), $"rank must be ≥ 1, got {rank}");
        int l = Math.Min(rank + oversample, Math.Min(a.Rows, a.Cols));
        rank = Math.Min(rank, l);
        var rng = new Rng(seed);
        var omega = new double[a.Cols * l];
        for (int i = 0; i < omega.Length; i++) omega[i] = rng.NextNormal();
        var q = a.Multiply(omega, l);
        Orthonormalize(q, a.Rows, l);
        for (int it = 0; it < powerIterations; it++)
        {
            var z = a.TransposeMultiply(q, l);
            Orthonormalize(z, a.Cols, l);
            q = a.Multiply(z, l);
            Orthonormalize(q, a.Rows, l);
        }
        // Bᵀ = Aᵀ Q is [Cols × l]; Bᵀ = W Σ Hᵀ gives A ≈ Q B = (Q H) Σ Wᵀ
        var bt = a.TransposeMultiply(q, l);
        var small = JacobiSvd.Compute(bt, a.Cols, l);
        var u = new double[a.Rows * rank];
        for (int r = 0; r < rank; r++)
            for (int j = 0; j < l; j++)
            {
                double h = small.V[r * l + j];
                if (h == 0) continue;
                for (int i = 0; i < a.Rows; i++) u[r * a.Rows + i] += q[j * a.Rows + i] * h;
            }
        return new Svd(u, small.S[..rank], small.U.AsSpan(0, a.Cols * rank).ToArray(), a.Rows, a.Cols, rank);
    }

    /// <summary>Modified Gram–Schmidt, applied twice ("twice is enough"), on column-major [rows × cols]; a dependent column becomes zero.</summary>
    public static void Orthonormalize(double[] m, int rows, int cols)
    {
        for (int pass = 0; pass < 2; pass++)
            for (int j = 0; j < cols; j++)
            {
                var cj = m.AsSpan(j * rows, rows);
                for (int p = 0; p < j; p++)
                {
                    var cp = m.AsSpan(p * rows, rows);
                    double dot = 0;
                    for (int i = 0; i < rows; i++) dot += cp[i] * cj[i];
                    for (int i = 0; i < rows; i++) cj[i] -= dot * cp[i];
                }
                double n = 0;
                for (int i = 0; i < rows; i++) n += cj[i] * cj[i];
                n = Math.Sqrt(n);
                if (n < 1e-12) { cj.Clear(); continue; }
                for (int i = 0; i < rows; i++) cj[i] /= n;
            }
    }
}
