using System.Numerics.Tensors;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Row-wise softmax and log-softmax over a [rows, cols] matrix with an optional mask.
/// The mask holds true where a position takes part; mask row i / <c>rowsPerMaskRow</c> serves
/// row i, so a key-padding mask [B, Lk] can serve scores [B·H·Lq, Lk] with rowsPerMaskRow = H·Lq.
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
            var job = new LogBackwardJob { Y = py, Dy = pdy, Dx = pdx, Mask = mask.IsEmpty ? null : pm, Cols = cols, RowsPerMaskRow = rowsPerMaskRow };
            KernelThreads.Run(job, rows, KernelThreads.ForElements((long)rows * cols));
        }
    }

    private static void Run(ReadOnlySpan<float> x, int rows, int cols, Span<float> y, ReadOnlySpan<bool> mask, int rowsPerMaskRow, bool log)
    {
        string op = log ? "Softmax.LogForward" : "Softmax.Forward";
        Check.Matrix(op, "x", x.Length, rows, cols);
        Check.Matrix(op, "y", y.Length, rows, cols);
        CheckMask(op, mask.Length, rows, cols, rowsPerMaskRow);
        fixed (float* px = x, py = y)
        fixed (bool* pm = mask)
        {
            var job = new ForwardJob { X = px, Y = py, Mask = mask.IsEmpty ? null : pm, Cols = cols, RowsPerMaskRow = rowsPerMaskRow, Log = log };
            KernelThreads.Run(job, rows, KernelThreads.ForElements((long)rows * cols));
        }
    }

    private static void CheckMask(string op, int maskLength, int rows, int cols, int rowsPerMaskRow)
    {
        if (maskLength == 0) return;
        if (rowsPerMaskRow < 1 || rows % rowsPerMaskRow != 0)
            throw new ArgumentException($"{op}: rowsPerMaskRow {rowsPerMaskRow} does not divide {rows} rows");
        Check.Vector(op, "mask", maskLength, (long)rows / rowsPerMaskRow * cols);
    }

    private struct ForwardJob : IRangeJob
    {
        public float* X, Y;
        public bool* Mask;
        public int Cols, RowsPerMaskRow;
        public bool Log;

        public readonly void Run(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                var x = new ReadOnlySpan<float>(X + (long)r * Cols, Cols);
                var y = new Span<float>(Y + (long)r * Cols, Cols);
                if (Mask == null)
                {
                    float max = TensorPrimitives.Max(x);
                    TensorPrimitives.Subtract(x, max, y);
                    if (Log)
                    {
                        // y = (x − max) − log Σ e^(x − max); the exp goes through a scratch row.
                        float sumExp = SumExp(y);
                        TensorPrimitives.Subtract(y, MathF.Log(sumExp), y);
                    }
                    else
                    {
                        TensorPrimitives.Exp(y, y);
                        TensorPrimitives.Multiply(y, 1f / TensorPrimitives.Sum(y), y);
                    }
                    continue;
                }
                bool* m = Mask + (long)(r / RowsPerMaskRow) * Cols;
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

        private static float SumExp(ReadOnlySpan<float> shifted)
        {
            Span<float> tmp = stackalloc float[256];
            float sum = 0f;
            for (int c = 0; c < shifted.Length; c += tmp.Length)
            {
                int n = Math.Min(tmp.Length, shifted.Length - c);
                TensorPrimitives.Exp(shifted.Slice(c, n), tmp[..n]);
                sum += TensorPrimitives.Sum(tmp[..n]);
            }
            return sum;
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
                var y = new ReadOnlySpan<float>(Y + (long)r * Cols, Cols);
                var dy = new ReadOnlySpan<float>(Dy + (long)r * Cols, Cols);
                var dx = new Span<float>(Dx + (long)r * Cols, Cols);
                float dot = TensorPrimitives.Dot(y, dy);
                for (int c = 0; c < Cols; c++) dx[c] += y[c] * (dy[c] - dot);
            }
        }
    }

    private struct LogBackwardJob : IRangeJob
    {
        public float* Y, Dy, Dx;
        public bool* Mask;
        public int Cols, RowsPerMaskRow;

        public readonly void Run(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                var y = new ReadOnlySpan<float>(Y + (long)r * Cols, Cols);
                var dy = new ReadOnlySpan<float>(Dy + (long)r * Cols, Cols);
                var dx = new Span<float>(Dx + (long)r * Cols, Cols);
                bool* m = Mask == null ? null : Mask + (long)(r / RowsPerMaskRow) * Cols;
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
