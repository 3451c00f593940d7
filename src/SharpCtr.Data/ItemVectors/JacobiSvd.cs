namespace SharpCtr.Data.Vectors;

/// <summary>Singular value decomposition M = U·diag(S)·Vᵀ, singular values largest first.</summary>
/// <param name="U">[rows × rank] column-major, orthonormal columns.</param>
/// <param name="V">[cols × rank] column-major, orthonormal columns.</param>
public sealed record Svd(double[] U, double[] S, double[] V, int Rows, int Cols, int Rank);

/// <summary>
/// Exact SVD of a small dense matrix by one-sided Jacobi rotations (Hestenes): rotate pairs of
/// columns until all are mutually orthogonal; the column norms are then the singular values.
/// Slow (cubic) but simple and accurate to machine precision, so it serves both as the last step
/// of the randomized SVD (on a thin matrix) and as the reference the tests compare against.
/// </summary>
public static class JacobiSvd
{
    /// <param name="m">[rows × cols] column-major; rows ≥ cols is fastest but not required.</param>
    public static Svd Compute(double[] m, int rows, int cols, int maxSweeps = 60)
    {
        if (rows < cols)
        {
            // Mᵀ = V S Uᵀ: decompose the transpose and swap the factors
            var t = new double[m.Length];
            for (int j = 0; j < cols; j++)
                for (int i = 0; i < rows; i++) t[i * cols + j] = m[j * rows + i];
            var s = Compute(t, cols, rows, maxSweeps);
            return new Svd(s.V, s.S, s.U, rows, cols, s.Rank);
        }
        var a = (double[])m.Clone();
        var v = new double[cols * cols];
        for (int j = 0; j < cols; j++) v[j * cols + j] = 1;
        for (int sweep = 0; sweep < maxSweeps; sweep++)
        {
            bool rotated = false;
            for (int p = 0; p < cols - 1; p++)
                for (int q = p + 1; q < cols; q++)
                {
                    var cp = a.AsSpan(p * rows, rows);
                    var cq = a.AsSpan(q * rows, rows);
                    double alpha = 0, beta = 0, gamma = 0;
                    for (int i = 0; i < rows; i++) { alpha += cp[i] * cp[i]; beta += cq[i] * cq[i]; gamma += cp[i] * cq[i]; }
                    if (Math.Abs(gamma) <= 1e-15 * Math.Sqrt(alpha * beta) || gamma == 0) continue;
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.Sign(zeta) / (Math.Abs(zeta) + Math.Sqrt(1 + zeta * zeta));
                    if (zeta == 0) t = 1;
                    double c = 1 / Math.Sqrt(1 + t * t), s = c * t;
                    Rotate(cp, cq, c, s);
                    Rotate(v.AsSpan(p * cols, cols), v.AsSpan(q * cols, cols), c, s);
                }
            if (!rotated) break;
        }
        var norms = new double[cols];
        for (int j = 0; j < cols; j++)
        {
            double n = 0;
            foreach (var x in a.AsSpan(j * rows, rows)) n += x * x;
            norms[j] = Math.Sqrt(n);
        }
        var order = new int[cols];
        for (int j = 0; j < cols; j++) order[j] = j;
        Array.Sort(order, (x, y) => norms[y].CompareTo(norms[x]) is var c && c != 0 ? c : x.CompareTo(y));
        var u = new double[rows * cols];
        var vs = new double[cols * cols];
        var sv = new double[cols];
        for (int r = 0; r < cols; r++)
        {
            int j = order[r];
            sv[r] = norms[j];
            double inv = norms[j] > 0 ? 1 / norms[j] : 0;
            for (int i = 0; i < rows; i++) u[r * rows + i] = a[j * rows + i] * inv;
            v.AsSpan(j * cols, cols).CopyTo(vs.AsSpan(r * cols, cols));
        }
        return new Svd(u, sv, vs, rows, cols, cols);
    }

    static void Rotate(Span<double> x, Span<double> y, double c, double s)
    {
        for (int i = 0; i < x.Length; i++)
        {
            double xi = x[i], yi = y[i];
            x[i] = c * xi - s * yi;
            y[i] = s * xi + c * yi;
        }
    }
}
