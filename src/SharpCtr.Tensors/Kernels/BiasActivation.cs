using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// y = act(x + bias) over a [rows, cols] matrix (bias broadcast over rows, may be empty), and
/// its backward. Fused so the pre-activation never goes to memory. Backward kernels here, as
/// everywhere in Kernels, ADD into gradient buffers (autodiff accumulates).
/// </summary>
public static unsafe class BiasActivation
{
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, int rows, int cols,
        Activation activation, Span<float> y, float negativeSlope = 0.01f)
    {
        Check.Matrix("BiasActivation.Forward", "x", x.Length, rows, cols);
        Check.Matrix("BiasActivation.Forward", "y", y.Length, rows, cols);
        Check.OptionalVector("BiasActivation.Forward", "bias", bias.Length, cols);
        fixed (float* px = x, pb = bias, py = y)
        {
            var job = new ForwardJob { X = px, Bias = bias.IsEmpty ? null : pb, Y = py, Cols = cols, Slope = negativeSlope, Act = activation };
            KernelThreads.Run(job, rows, KernelThreads.ForElements((long)rows * cols));
        }
    }

    /// <summary>
    /// dx += dy·act'(x + bias) and dbias += Σ_rows dy·act'(x + bias). <paramref name="y"/> is
    /// the forward output (needed for sigmoid and tanh; may be empty otherwise); dx or dbias may
    /// be empty when that gradient is not wanted. With <paramref name="overwriteDx"/> dx is written,
    /// not added to (a new, unzeroed gradient buffer: saves zeroing it and reading it back).
    /// </summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, ReadOnlySpan<float> y, ReadOnlySpan<float> dy,
        int rows, int cols, Activation activation, Span<float> dx, Span<float> dbias, float negativeSlope = 0.01f, bool overwriteDx = false)
    {
        const string op = "BiasActivation.Backward";
        Check.Matrix(op, "x", x.Length, rows, cols);
        Check.Matrix(op, "dy", dy.Length, rows, cols);
        Check.OptionalVector(op, "bias", bias.Length, cols);
        if (activation is Activation.Sigmoid or Activation.Tanh || !y.IsEmpty) Check.Matrix(op, "y", y.Length, rows, cols);
        if (!dx.IsEmpty) Check.Matrix(op, "dx", dx.Length, rows, cols);
        Check.OptionalVector(op, "dbias", dbias.Length, cols);
        if (dx.IsEmpty && dbias.IsEmpty) return;

        int chunks = RowChunks.Count(rows);
        float[]? partials = dbias.IsEmpty ? null : RowChunks.RentPartials(chunks, cols);
        fixed (float* px = x, pb = bias, py = y, pdy = dy, pdx = dx, pp = partials)
        {
            var job = new BackwardJob
            {
                X = px, Bias = bias.IsEmpty ? null : pb, Y = py, Dy = pdy, Dx = dx.IsEmpty ? null : pdx, Partials = pp,
                Rows = rows, Cols = cols, Slope = negativeSlope, Act = activation, OverwriteDx = overwriteDx,
            };
            KernelThreads.Run(job, chunks, KernelThreads.ForElements((long)rows * cols));
        }
        if (partials != null) RowChunks.AddAndReturn(partials, chunks, cols, dbias);
    }

    private struct ForwardJob : IRangeJob
    {
        public float* X, Bias, Y;
        public int Cols;
        public float Slope;
        public Activation Act;

        public readonly void Run(int start, int end)
        {
            switch (Act)
            {
                case Activation.Identity: Rows<IdentityOp>(start, end); break;
                case Activation.Relu: Rows<ReluOp>(start, end); break;
                case Activation.LeakyRelu: Rows<LeakyReluOp>(start, end); break;
                case Activation.Sigmoid: Rows<SigmoidOp>(start, end); break;
                case Activation.Tanh: Rows<TanhOp>(start, end); break;
                case Activation.GeluErf: Rows<GeluErfOp>(start, end); break;
                case Activation.GeluTanh: Rows<GeluTanhOp>(start, end); break;
                default: throw new ArgumentOutOfRangeException(nameof(Act), Act, "unknown activation");
            }
        }

        // Its own method, not inlined into Run's switch: seven inlined copies exhaust the JIT's inlining
        // budget, and the vector helpers of the last ones are then called out of line in the loop.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private readonly void Rows<TOp>(int start, int end) where TOp : struct, IActivationOp
        {
            var slope = Vector512.Create(Slope);
            for (int r = start; r < end; r++)
            {
                float* xr = X + (long)r * Cols, yr = Y + (long)r * Cols;
                int c = 0;
                for (; c + 16 <= Cols; c += 16)
                {
                    var z = Vector512.Load(xr + c);
                    if (Bias != null) z += Vector512.Load(Bias + c);
                    Vector512.Store(TOp.Forward(z, slope), yr + c);
                }
                if (c < Cols)
                {
                    int n = Cols - c;
                    var z = VectorMath.LoadPartial(xr + c, n);
                    if (Bias != null) z += VectorMath.LoadPartial(Bias + c, n);
                    VectorMath.StorePartial(TOp.Forward(z, slope), yr + c, n);
                }
            }
        }
    }

    private struct BackwardJob : IRangeJob
    {
        public float* X, Bias, Y, Dy, Dx, Partials;
        public int Rows, Cols;
        public float Slope;
        public Activation Act;
        public bool OverwriteDx;

        public readonly void Run(int start, int end)
        {
            switch (Act)
            {
                case Activation.Identity: Chunks<IdentityOp>(start, end); break;
                case Activation.Relu: Chunks<ReluOp>(start, end); break;
                case Activation.LeakyRelu: Chunks<LeakyReluOp>(start, end); break;
                case Activation.Sigmoid: Chunks<SigmoidOp>(start, end); break;
                case Activation.Tanh: Chunks<TanhOp>(start, end); break;
                case Activation.GeluErf: Chunks<GeluErfOp>(start, end); break;
                case Activation.GeluTanh: Chunks<GeluTanhOp>(start, end); break;
                default: throw new ArgumentOutOfRangeException(nameof(Act), Act, "unknown activation");
            }
        }

        // Its own method, not inlined into Run's switch: seven inlined copies exhaust the JIT's inlining
        // budget, and the vector helpers of the last ones are then called out of line in the loop.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private readonly void Chunks<TOp>(int chunkStart, int chunkEnd) where TOp : struct, IActivationOp
        {
            var slope = Vector512.Create(Slope);
            for (int ch = chunkStart; ch < chunkEnd; ch++)
            {
                float* partial = Partials == null ? null : Partials + (long)ch * Cols;
                int rEnd = Math.Min(Rows, (ch + 1) * RowChunks.Size);
                for (int r = ch * RowChunks.Size; r < rEnd; r++)
                {
                    long o = (long)r * Cols;
                    for (int c = 0; c < Cols; c += 16)
                    {
                        int n = Cols - c;
                        var z = VectorMath.LoadPartial(X + o + c, n);
                        if (Bias != null) z += VectorMath.LoadPartial(Bias + c, n);
                        var y = Y == null ? default : VectorMath.LoadPartial(Y + o + c, n);
                        var g = VectorMath.LoadPartial(Dy + o + c, n) * TOp.Derivative(z, y, slope);
                        if (Dx != null) VectorMath.StorePartial(OverwriteDx ? g : VectorMath.LoadPartial(Dx + o + c, n) + g, Dx + o + c, n);
                        if (partial != null) VectorMath.StorePartial(VectorMath.LoadPartial(partial + c, n) + g, partial + c, n);
                    }
                }
            }
        }
    }
}
