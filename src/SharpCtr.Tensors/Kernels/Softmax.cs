using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Row-wise softmax and log-softmax over a [rows, cols] matrix with an optional mask.
/// The mask holds true where a position takes part; it has maskRows = mask.Length / cols rows and
/// row i of x uses mask row (i / rowsPerMaskRow) % maskRows. So for scores [B·H·Lq, Lk] a
/// key-padding mask [B, Lk] uses rowsPerMaskRow = H·Lq, a causal mask [Lq, Lk] uses 1, and a
/// full mask [rows, cols] uses 1.
/// Masked positions get probability 0 (log-probability −∞); a fully masked row is all zeros
/// (no NaN) and passes no gradient. Backward kernels add into dx.
/// </summary>
public static unsafe class Softmax
{
    public static void Forward(ReadOnlySpan<float> x, int rows, int cols, Span<float> y,
        ReadOnlySpan<bool> mask = default, int rowsPerMaskRow = 1) =>
        Run(x, rows, cols, y, mask, rowsPerMaskRow, log: false);

    public static void LogForward(ReadOnlySpan<float> x, int rows, int cols, Span<float> y,
        ReadOnlySpan<bool> mask = default, int rowsPerMaskRow = 1) =>
        Run(x, rows, cols, y, mask, rowsPerMaskRow, log: true);

    /// <summary>dx += y ⊙ (dy − Σ y·dy), y the softmax output (masked entries are 0 and get 0).</summary>
    public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, int rows, int cols, Span<float> dx)
    {
        Check.Matrix("Softmax.Backward", "y", y.Length, rows, cols);
        Check.Matrix("Softmax.Backward", "dy", dy.Length, rows, cols);
        Check.Matrix("Softmax.Backward", "dx", dx.Length, rows, cols);
        fixed (float* py = y, pdy = dy, pdx = dx)
        {
            var job = new BackwardJob { Y = py, Dy = pdy, Dx = pdx, Cols = cols };
            KernelThreads.Run(job, rows, KernelThreads.ForElements((long)rows * cols));
        }
    }

    /// <summary>dx += dy − e^y · Σ dy over the unmasked positions of each row (masked positions get 0).</summary>
    public static void LogBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, int rows, int cols, Span<float> dx,
        ReadOnlySpan<bool> mask = default, int rowsPerMaskRow = 1)
    {
        Check.Matrix("Softmax.LogBackward", "y", y.Length, rows, cols);
        Check.Matrix("Softmax.LogBackward", "dy", dy.Length, rows, cols);
        Check.Matrix("Softmax.LogBackward", "dx", dx.Length, rows, cols);
        CheckMask("Softmax.LogBackward", mask.Length, rows, cols, rowsPerMaskRow);
        fixed (float* py = y, pdy = dy, pdx = dx)
        fixed (bool* pm = mask)
        {
            var job = new LogBackwardJob { Y = py, Dy = pdy, Dx = pdx, Mask = mask.IsEmpty ? null : pm, MaskRows = mask.Length / Math.Max(1, cols), Cols = cols, RowsPerMaskRow = rowsPerMaskRow };
            KernelThreads.Run(job, rows, KernelThreads.ForElements((long)rows * cols));
        }
    }

    private static void Run(ReadOnlySpan<float> x, int rows, int cols, Span<float> y, ReadOnlySpan<bool> mask, int rowsPerMaskRow, bool log)
    {
        string op = log ? "Softmax.LogForward" : "Softmax.Forward";
        Check.Matrix(op, "x", x.Length, rows, cols);
        Check.Matrix(op, "y", y.Length, rows, cols);
        CheckMask(op, mask.Length, rows, cols, rowsPerMaskRow);
        if (cols == 0) return;
        fixed (float* px = x, py = y)
        fixed (bool* pm = mask)
        {
            var job = new ForwardJob { X = px, Y = py, Mask = mask.IsEmpty ? null : pm, MaskRows = mask.Length / Math.Max(1, cols), Cols = cols, RowsPerMaskRow = rowsPerMaskRow, Log = log };
            KernelThreads.Run(job, rows, KernelThreads.ForElements((long)rows * cols));
        }
    }

    internal static void CheckMask(string op, int maskLength, int rows, int cols, int rowsPerMaskRow)
    {
        if (maskLength == 0) return;
        if (cols == 0 || maskLength % cols != 0)
            throw new ArgumentException($"{op}: mask has {maskLength} entries, not a whole number of rows of {cols}");
        int maskRows = maskLength / cols;
        if (rowsPerMaskRow < 1 || rows % rowsPerMaskRow != 0 || rows / rowsPerMaskRow % maskRows != 0)
            throw new ArgumentException($"{op}: {rows} rows do not tile as groups of rowsPerMaskRow={rowsPerMaskRow} over {maskRows} mask rows");
    }

    internal struct ForwardJob : IRangeJob
    {
        public float* X, Y;
        public bool* Mask;
        public int Cols, RowsPerMaskRow, MaskRows;
        public bool Log;

        public readonly void Run(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                var x = new ReadOnlySpan<float>(X + (long)r * Cols, Cols);
                var y = new Span<float>(Y + (long)r * Cols, Cols);
                if (Mask == null)
                {
                    float max = RowMax(X + (long)r * Cols, Cols);
                    float total = ShiftAndSumExp(X + (long)r * Cols, Y + (long)r * Cols, Cols, max, storeExp: !Log);
                    if (Log) TensorPrimitives.Subtract(x, max + MathF.Log(total), y);
                    else TensorPrimitives.Multiply(y, 1f / total, y);
                    continue;
                }
                bool* m = Mask + (long)(r / RowsPerMaskRow % MaskRows) * Cols;
                float mx = float.NegativeInfinity;
                for (int c = 0; c < Cols; c++)
                    if (m[c] && x[c] > mx) mx = x[c];
                if (float.IsNegativeInfinity(mx))
                {
                    y.Clear(); // fully masked (or all −∞): defined as zeros, no NaN
                    continue;
                }
                double sum = 0;
                for (int c = 0; c < Cols; c++)
                {
                    float e = m[c] ? MathF.Exp(x[c] - mx) : 0f;
                    sum += e;
                    if (!Log) y[c] = e;
                }
                if (Log)
                {
                    float lse = MathF.Log((float)sum);
                    for (int c = 0; c < Cols; c++) y[c] = m[c] ? x[c] - mx - lse : float.NegativeInfinity;
                }
                else
                {
                    TensorPrimitives.Multiply(y, (float)(1.0 / sum), y);
                }
            }
        }

        /// <summary>Σ e^(x − max) over a row; when <paramref name="storeExp"/>, also y = e^(x − max).</summary>
        private static float ShiftAndSumExp(float* x, float* y, int n, float max, bool storeExp)
        {
            var vmax = Vector512.Create(max);
            var acc = Vector512<float>.Zero;
            for (int c = 0; c < n; c += 16)
            {
                int cnt = n - c;
                // Padding lanes load −∞ so they contribute e^(−∞) = 0.
                var e = VectorMath.Exp(VectorMath.LoadPartial(x + c, cnt, float.NegativeInfinity) - vmax);
                acc += e;
                if (storeExp) VectorMath.StorePartial(e, y + c, cnt);
            }
            return VectorMath.Sum(acc);
        }

        private static float RowMax(float* x, int n)
        {
            var acc = Vector512.Create(float.NegativeInfinity);
            for (int c = 0; c < n; c += 16)
                acc = Vector512.Max(acc, VectorMath.LoadPartial(x + c, n - c, float.NegativeInfinity));
            return VectorMath.Max(acc);
        }
    }

    private struct BackwardJob : IRangeJob
    {
        public float* Y, Dy, Dx;
        public int Cols;

        public readonly void Run(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                float* y = Y + (long)r * Cols, dy = Dy + (long)r * Cols, dx = Dx + (long)r * Cols;
                var dot = Vector512.Create(TensorPrimitives.Dot(new ReadOnlySpan<float>(y, Cols), new ReadOnlySpan<float>(dy, Cols)));
                for (int c = 0; c < Cols; c += 16)
                {
                    int n = Cols - c;
                    var g = VectorMath.LoadPartial(y + c, n) * (VectorMath.LoadPartial(dy + c, n) - dot);
                    VectorMath.StorePartial(VectorMath.LoadPartial(dx + c, n) + g, dx + c, n);
                }
            }
        }
    }

    private struct LogBackwardJob : IRangeJob
    {
        public float* Y, Dy, Dx;
        public bool* Mask;
        public int Cols, RowsPerMaskRow, MaskRows;

        public readonly void Run(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                var y = new ReadOnlySpan<float>(Y + (long)r * Cols, Cols);
                var dy = new ReadOnlySpan<float>(Dy + (long)r * Cols, Cols);
                var dx = new Span<float>(Dx + (long)r * Cols, Cols);
                bool* m = Mask == null ? null : Mask + (long)(r / RowsPerMaskRow % MaskRows) * Cols;
                float sum = 0f;
                int valid = 0;
                for (int c = 0; c < Cols; c++)
                    if (m == null || m[c]) { sum += dy[c]; valid++; }
                if (valid == 0) continue; // fully masked row: output was constant zeros
                for (int c = 0; c < Cols; c++)
                    if (m == null || m[c]) dx[c] += dy[c] - MathF.Exp(y[c]) * sum;
            }
        }
    }
}
