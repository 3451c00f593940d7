using System.Numerics.Tensors;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Plain same-shape binary ops on large spans, split over fixed chunks between cores above the
/// size threshold (small spans: a direct TensorPrimitives call).
/// </summary>
public static unsafe class Elementwise
{
    private const int ChunkFloats = 1 << 14;

    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => Binary(a, b, y, BinaryOp.Add);

    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => Binary(a, b, y, BinaryOp.Multiply);

    private enum BinaryOp { Add, Multiply }

    private static void Binary(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, BinaryOp op)
    {
        Check.Vector("Elementwise." + op, "b", b.Length, a.Length);
        Check.Vector("Elementwise." + op, "y", y.Length, a.Length);
        int workers = KernelThreads.ForElements(3L * a.Length);
        if (workers == 1)
        {
            Apply(a, b, y, op);
            return;
        }
        fixed (float* pa = a, pb = b, py = y)
        {
            var job = new BinaryJob { A = pa, B = pb, Y = py, Length = a.Length, Op = op };
            KernelThreads.Run(job, (a.Length + ChunkFloats - 1) / ChunkFloats, workers);
        }
    }

    private static void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, BinaryOp op)
    {
        if (op == BinaryOp.Add) TensorPrimitives.Add(a, b, y);
        else TensorPrimitives.Multiply(a, b, y);
    }

    private struct BinaryJob : IRangeJob
    {
        public float* A, B, Y;
        public int Length;
        public BinaryOp Op;

        public readonly void Run(int start, int end)
        {
            long s = (long)start * ChunkFloats;
            int n = (int)(Math.Min(Length, (long)end * ChunkFloats) - s);
            Apply(new ReadOnlySpan<float>(A + s, n), new ReadOnlySpan<float>(B + s, n), new Span<float>(Y + s, n), Op);
        }
    }
}
