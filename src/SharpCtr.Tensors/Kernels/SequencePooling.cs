using System.Numerics.Tensors;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Sum or mean over the first lengths[b] positions of padded sequences x [B, L, D] → y [B, D]
/// (a length of 0 gives zeros). Backward adds into dx only at the counted positions.
/// </summary>
public static unsafe class SequencePooling
{
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<int> lengths, int batch, int maxLength, int dim, bool mean, Span<float> y)
    {
        const string op = "SequencePooling.Forward";
        Check.Vector(op, "x", x.Length, (long)batch * maxLength * dim);
        Check.Vector(op, "y", y.Length, (long)batch * dim);
        CheckLengths(op, lengths, batch, maxLength);
        fixed (float* px = x, py = y)
        fixed (int* pl = lengths)
        {
            var job = new Job { X = px, Y = py, Lengths = pl, MaxLength = maxLength, Dim = dim, Mean = mean, Backward = false };
            KernelThreads.Run(job, batch, KernelThreads.ForElements((long)batch * maxLength * dim));
        }
    }

    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<int> lengths, int batch, int maxLength, int dim, bool mean, Span<float> dx)
    {
        const string op = "SequencePooling.Backward";
        Check.Vector(op, "dx", dx.Length, (long)batch * maxLength * dim);
        Check.Vector(op, "dy", dy.Length, (long)batch * dim);
        CheckLengths(op, lengths, batch, maxLength);
        fixed (float* pdx = dx, pdy = dy)
        fixed (int* pl = lengths)
        {
            var job = new Job { X = pdx, Y = pdy, Lengths = pl, MaxLength = maxLength, Dim = dim, Mean = mean, Backward = true };
            KernelThreads.Run(job, batch, KernelThreads.ForElements((long)batch * maxLength * dim));
        }
    }

    private static void CheckLengths(string op, ReadOnlySpan<int> lengths, int batch, int maxLength)
    {
        Check.Vector(op, "lengths", lengths.Length, batch);
        for (int b = 0; b < batch; b++)
            if ((uint)lengths[b] > (uint)maxLength)
                throw new ArgumentOutOfRangeException(nameof(lengths), $"{op}: lengths[{b}] = {lengths[b]} is outside [0, {maxLength}]");
    }

    private struct Job : IRangeJob
    {
        public float* X, Y; // forward: x → y; backward: X is dx, Y is dy
        public int* Lengths;
        public int MaxLength, Dim;
        public bool Mean, Backward;

        public readonly void Run(int start, int end)
        {
            for (int b = start; b < end; b++)
            {
                int len = Lengths[b];
                var y = new Span<float>(Y + (long)b * Dim, Dim);
                float scale = Mean && len > 0 ? 1f / len : 1f;
                if (!Backward) y.Clear();
                for (int l = 0; l < len; l++)
                {
                    var x = new Span<float>(X + ((long)b * MaxLength + l) * Dim, Dim);
                    if (Backward) TensorPrimitives.MultiplyAdd(y, scale, x, x);
                    else TensorPrimitives.Add(y, x, y);
                }
                if (!Backward && Mean && len > 0) TensorPrimitives.Multiply(y, scale, y);
            }
        }
    }
}
