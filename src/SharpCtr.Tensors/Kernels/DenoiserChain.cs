using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// The deterministic reverse chain of a diffusion purifier (CDP, DiffRec-style) at inference,
/// fused: for every tile of rows, all K steps
///   h = relu(x·Wx + b + step_k + cond_row) → hidden ReLU layers → ε = h·Wout + bout
///   x ← cx_k·x − ce_k·ε
/// run on the tile's rows in per-thread scratch. Op by op, a 100-candidate request made ~8
/// tensor ops per step (160 for 20 steps) on [100, 64] tensors, and spent more time launching
/// and moving them than multiplying. The additions and the update keep the op path's order
/// (((z + b) + step) + cond; x·cx − ε·ce, no contraction), so only the first product's
/// summation order differs from it (the op path's GEMM).
/// Widths must be multiples of 16 and the hidden activations ReLU (<see cref="Supports"/>).
/// </summary>
[SkipLocalsInit]
public static unsafe class DenoiserChainKernel
{
    /// <summary>Rows per tile: a multiple of 4 (the products' row block) small enough for L1.</summary>
    public const int TileRows = 24;

    [ThreadStatic] static float[]? scratch;

    /// <param name="first">x·Wx + b ([D, H]); its own activation is ignored (the ReLU follows the step and condition parts).</param>
    public static bool Supports(InferenceLayer first, InferenceLayer[] hidden, InferenceLayer output)
    {
        if (first.Out % 16 != 0 || output.Out % 16 != 0 || output.Out != first.In || output.Act != InferenceActivation.Identity) return false;
        int width = first.Out;
        foreach (var l in hidden)
        {
            if (l.In != width || l.Out % 16 != 0 || l.Act != InferenceActivation.Relu) return false;
            width = l.Out;
        }
        return output.In == width;
    }

    /// <param name="x">[n, D]: the chain's start on entry, its end on return.</param>
    /// <param name="condition">[n, H] per-row condition part, or null.</param>
    /// <param name="steps">[K, H] step parts, in chain order.</param>
    /// <param name="xScale">cx_k per step.</param>
    /// <param name="epsScale">ce_k per step.</param>
    public static void Run(float[] x, int n, float[]? condition, float[] steps, float[] xScale, float[] epsScale,
        InferenceLayer first, InferenceLayer[] hidden, InferenceLayer output)
    {
        if (!Supports(first, hidden, output)) throw new ArgumentException("denoiser widths must be multiples of 16 with ReLU hidden layers, and its output as wide as its input");
        int d = first.In, h = first.Out, k = xScale.Length;
        if (epsScale.Length != k || steps.Length < k * h) throw new ArgumentException($"{k} steps need {k} ε scales and [{k}, {h}] step parts");
        if (x.Length < n * d || condition is not null && condition.Length < n * h) throw new ArgumentException("x or condition is smaller than n rows");
        long macsPerRow = (long)d * h + (long)output.In * d;
        foreach (var l in hidden) macsPerRow += (long)l.In * l.Out;
        int tiles = (n + TileRows - 1) / TileRows;
        int workers = KernelThreads.For(n * macsPerRow * k, KernelThreads.MinParallelMacs);
        fixed (float* px = x, pc = condition, ps = steps, pcx = xScale, pce = epsScale)
        {
            var job = new TileJob { X = px, Condition = pc, Steps = ps, XScale = pcx, EpsScale = pce, K = k, N = n, First = first, Hidden = hidden, Output = output };
            KernelThreads.Run(job, tiles, workers);
        }
    }

    struct TileJob : IRangeJob
    {
        public float* X, Condition, Steps, XScale, EpsScale;
        public int K, N;
        public InferenceLayer First, Output;
        public InferenceLayer[] Hidden;

        public readonly void Run(int tileStart, int tileEnd)
        {
            int d = First.In, widest = First.Out;
            foreach (var l in Hidden) widest = Math.Max(widest, l.Out);
            int need = TileRows * (2 * d + 2 * widest);
            if (scratch is null || scratch.Length < need) scratch = new float[need];
            fixed (float* ps = scratch)
            fixed (float* b1 = First.Bias, bOut = Output.Bias)
            {
                float* xs = ps, eps = xs + TileRows * d, ha = eps + TileRows * d, hb = ha + TileRows * widest;
                for (int t = tileStart; t < tileEnd; t++) Tile(t * TileRows, xs, eps, ha, hb, b1, bOut);
            }
        }

        readonly void Tile(int r0, float* xs, float* eps, float* ha, float* hb, float* b1, float* bOut)
        {
            int d = First.In, h = First.Out;
            int rows = Math.Min(TileRows, N - r0), padded = (rows + 3) & ~3;
            Buffer.MemoryCopy(X + (long)r0 * d, xs, (long)rows * d * 4, (long)rows * d * 4);
            new Span<float>(xs + rows * d, (padded - rows) * d).Clear();   // pad rows: computed, never stored
            for (int k = 0; k < K; k++)
            {
                First.Multiply(xs, padded, ha);
                float* step = Steps + (long)k * h;
                for (int i = 0; i < rows; i++)
                {
                    float* hi = ha + i * h, ci = Condition == null ? null : Condition + (long)(r0 + i) * h;
                    for (int j = 0; j < h; j += 16)
                    {
                        var v = Vector512.Load(hi + j);
                        if (b1 != null) v += Vector512.Load(b1 + j);
                        v += Vector512.Load(step + j);
                        if (ci != null) v += Vector512.Load(ci + j);
                        Vector512.Store(VectorMath.Relu(v), hi + j);
                    }
                }
                float* cur = ha, next = hb;
                foreach (var layer in Hidden)
                {
                    layer.Forward(cur, padded, rows, next);
                    float* swap = cur; cur = next; next = swap;
                }
                Output.Multiply(cur, padded, eps);
                var cx = Vector512.Create(XScale[k]);
                var ce = Vector512.Create(EpsScale[k]);
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < d; j += 16)
                    {
                        var e = Vector512.Load(eps + i * d + j);
                        if (bOut != null) e += Vector512.Load(bOut + j);
                        Vector512.Store(Vector512.Load(xs + i * d + j) * cx - e * ce, xs + i * d + j);
                    }
            }
            Buffer.MemoryCopy(xs, X + (long)r0 * d, (long)rows * d * 4, (long)rows * d * 4);
        }
    }
}
