using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Inference forward of an MLP over a few rows (a request's candidates) in one pass: each layer
/// is a register-blocked small product, its bias and its activation applied in place, with the
/// activations kept in a per-thread scratch. For 100 rows × [256, 256, 256] this is faster than
/// three BLAS calls plus separate bias/activation passes (BLAS packs its operands for every
/// call, which does not pay at 100 rows), and it allocates nothing.
/// Hidden widths must be multiples of 16 (<see cref="Supports"/>); the output layer may be any width.
/// </summary>
[SkipLocalsInit]
public static unsafe class SmallMlpKernel
{
    /// <summary>Above this many rows the model's normal path (BLAS on both cores) is faster.</summary>
    public const int MaxRows = 512;

    [ThreadStatic] static float[]? scratch;

    public static bool Supports(ReadOnlySpan<InferenceLayer> hidden)
    {
        foreach (var l in hidden) if (l.Out % 16 != 0) return false;
        return true;
    }

    /// <summary>y [rows, output?.Out ?? last hidden width] = MLP(x [rows, inDim]).</summary>
    public static void Forward(ReadOnlySpan<float> x, int rows, int inDim, InferenceLayer[] hidden, InferenceLayer? output, Span<float> y)
    {
        if (!Supports(hidden)) throw new ArgumentException("hidden widths must be multiples of 16");
        int width = inDim;
        foreach (var l in hidden)
        {
            if (l.In != width) throw new ArgumentException($"layer takes {l.In} inputs, previous width is {width}");
            width = l.Out;
        }
        int outDim = output?.Out ?? width;
        if (output is not null && output.In != width) throw new ArgumentException($"output layer takes {output.In} inputs, last hidden width is {width}");
        if (x.Length < rows * inDim || y.Length < rows * outDim) throw new ArgumentException("x or y is smaller than rows × width");

        // Rows are independent, so two threads can each run the whole MLP on their own rows (in
        // blocks of 4, the micro-kernel's height) with bit-identical results.
        long macs = 0;
        width = inDim;
        foreach (var l in hidden) { macs += (long)width * l.Out; width = l.Out; }
        macs += (long)width * outDim;
        int blocks = (rows + 3) / 4;
        int workers = KernelThreads.For(rows * macs, KernelThreads.MinParallelMacs);
        fixed (float* px = x, py = y)
        {
            var job = new RowsJob { X = px, Y = py, Rows = rows, InDim = inDim, OutDim = outDim, Hidden = hidden, Output = output };
            KernelThreads.Run(job, blocks, workers);
        }
    }


    struct RowsJob : IRangeJob
    {
        public float* X, Y;
        public int Rows, InDim, OutDim;
        public InferenceLayer[] Hidden;
        public InferenceLayer? Output;

        public readonly void Run(int blockStart, int blockEnd)
        {
            int first = blockStart * 4, rows = Math.Min(Rows, blockEnd * 4) - first;
            if (rows > 0) Block(X + (long)first * InDim, rows, InDim, Hidden, Output, OutDim, Y + (long)first * OutDim);
        }
    }

    /// <summary>The whole MLP over <paramref name="rows"/> consecutive rows on the calling thread.</summary>
    static void Block(float* px, int rows, int inDim, InferenceLayer[] hidden, InferenceLayer? output, int outDim, float* py)
    {
        int padded = (rows + 3) & ~3, widest = inDim;
        foreach (var l in hidden) widest = Math.Max(widest, l.Out);
        int need = padded * (inDim + 2 * widest);
        if (scratch is null || scratch.Length < need) scratch = new float[need];
        fixed (float* ps = scratch)
        {
            float* input = ps, bufA = ps + padded * inDim, bufB = bufA + padded * widest;
            Buffer.MemoryCopy(px, input, (long)padded * inDim * 4, (long)rows * inDim * 4);
            new Span<float>(input + rows * inDim, (padded - rows) * inDim).Clear();   // pad rows: computed, never stored
            float* cur = input, next = bufA;
            int width = inDim;
            bool afterRelu = false;   // the first layer's input is embeddings, never ReLU output
            foreach (var layer in hidden)
            {
                layer.Forward(cur, padded, rows, next, afterRelu);
                afterRelu = layer.Act == InferenceActivation.Relu;
                width = layer.Out;
                cur = next;
                next = next == bufA ? bufB : bufA;
            }
            if (output is null) { Buffer.MemoryCopy(cur, py, (long)rows * width * 4, (long)rows * width * 4); return; }
            fixed (float* pw = output.Weight)
            {
                if (outDim % 16 == 0)
                {
                    output.Forward(cur, padded, rows, next, afterRelu);   // the output layer's activation is the identity
                    Buffer.MemoryCopy(next, py, (long)rows * outDim * 4, (long)rows * outDim * 4);
                }
                else
                    for (int i = 0; i < rows; i++)
                        for (int o = 0; o < outDim; o++)
                            py[i * outDim + o] = Dot(cur + i * width, pw + o, width, outDim) + (output.Bias?[o] ?? 0f);
            }
        }
    }

    /// <summary>Σ_p a[p]·w[p·stride]: a row times one column of a [width, stride] weight (contiguous when stride is 1).</summary>
    static float Dot(float* a, float* w, int width, int stride)
    {
        float sum = 0;
        int p = 0;
        if (stride == 1)
        {
            var acc = Vector512<float>.Zero;
            for (; p + 16 <= width; p += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + p), Vector512.Load(w + p), acc);
            sum = Vector512.Sum(acc);
        }
        for (; p < width; p++) sum += a[p] * w[(long)p * stride];
        return sum;
    }
}
