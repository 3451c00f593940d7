using System.Runtime.Intrinsics;

namespace SharpCtr.Tensors.Kernels;

/// <summary>Hyper-parameters of one Adam/AdamW step (torch's names and defaults).</summary>
public readonly record struct AdamSettings(float LearningRate, float Beta1 = 0.9f, float Beta2 = 0.999f,
    float Eps = 1e-8f, float WeightDecay = 0f, bool Decoupled = false);

/// <summary>
/// Adam (L2 weight decay added to the gradient) and AdamW (decoupled decay), following torch's
/// single-tensor update: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
/// p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε). <paramref name="step"/> counts from 1.
/// </summary>
public static unsafe class Adam
{
    public static void Step(Span<float> param, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, in AdamSettings s, long step)
    {
        const string op = "Adam.Step";
        Check.Vector(op, "grad", grad.Length, param.Length);
        Check.Vector(op, "m", m.Length, param.Length);
        Check.Vector(op, "v", v.Length, param.Length);
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), $"{op}: step must be ≥ 1, got {step}");
        fixed (float* pp = param, pg = grad, pm = m, pv = v)
        {
            var job = new Job { P = pp, G = pg, M = pm, V = pv, Coef = Coefficients(s, step), Length = param.Length };
            int chunks = (param.Length + ChunkFloats - 1) / ChunkFloats;
            KernelThreads.Run(job, chunks, KernelThreads.ForElements(4L * param.Length));
        }
    }

    /// <summary>Lazy update of the listed rows of a [rows, dim] table (embedding tables: only touched rows move).</summary>
    public static void StepRows(Span<float> param, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, int dim,
        ReadOnlySpan<int> rows, in AdamSettings s, long step)
    {
        const string op = "Adam.StepRows";
        Check.Vector(op, "grad", grad.Length, param.Length);
        Check.Vector(op, "m", m.Length, param.Length);
        Check.Vector(op, "v", v.Length, param.Length);
        if (dim <= 0 || param.Length % dim != 0) throw new ArgumentException($"{op}: dim {dim} does not divide {param.Length} floats");
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), $"{op}: step must be ≥ 1, got {step}");
        int tableRows = param.Length / dim;
        var coef = Coefficients(s, step);
        fixed (float* pp = param, pg = grad, pm = m, pv = v)
        {
            for (int i = 0; i < rows.Length; i++)
            {
                int r = rows[i];
                if ((uint)r >= (uint)tableRows) throw new ArgumentOutOfRangeException(nameof(rows), $"{op}: rows[{i}] = {r} is outside [0, {tableRows})");
                long o = (long)r * dim;
                Update(pp + o, pg + o, pm + o, pv + o, dim, coef);
            }
        }
    }

    // Fixed chunks so the split between threads never changes which vector lane handles which element.
    private const int ChunkFloats = 1 << 14;

    private readonly record struct Coef(float Beta1, float Beta2, float OneMinusBeta1, float OneMinusBeta2, float StepSize,
        float InvSqrtBc2, float Eps, float L2, float DecayFactor);

    private static Coef Coefficients(in AdamSettings s, long step)
    {
        double bc1 = 1 - Math.Pow(s.Beta1, step), bc2 = 1 - Math.Pow(s.Beta2, step);
        return new Coef(s.Beta1, s.Beta2, 1 - s.Beta1, 1 - s.Beta2, (float)(s.LearningRate / bc1), (float)(1 / Math.Sqrt(bc2)), s.Eps,
            s.Decoupled ? 0f : s.WeightDecay, s.Decoupled ? 1f - s.LearningRate * s.WeightDecay : 1f);
    }

    private static void Update(float* p, float* g, float* m, float* v, int n, in Coef c)
    {
        var b1 = Vector512.Create(c.Beta1); var b2 = Vector512.Create(c.Beta2);
        var ob1 = Vector512.Create(c.OneMinusBeta1); var ob2 = Vector512.Create(c.OneMinusBeta2);
        var stepSize = Vector512.Create(c.StepSize); var invBc2 = Vector512.Create(c.InvSqrtBc2);
        var eps = Vector512.Create(c.Eps); var l2 = Vector512.Create(c.L2); var decay = Vector512.Create(c.DecayFactor);
        for (int i = 0; i < n; i += 16)
        {
            int cnt = n - i;
            var pv = VectorMath.LoadPartial(p + i, cnt);
            var gv = VectorMath.LoadPartial(g + i, cnt);
            if (c.L2 != 0f) gv += l2 * pv;
            if (c.DecayFactor != 1f) pv *= decay;
            var mv = b1 * VectorMath.LoadPartial(m + i, cnt) + ob1 * gv;
            var vv = b2 * VectorMath.LoadPartial(v + i, cnt) + ob2 * gv * gv;
            var denom = Vector512.Sqrt(vv) * invBc2 + eps;
            pv -= stepSize * (mv / denom);
            VectorMath.StorePartial(mv, m + i, cnt);
            VectorMath.StorePartial(vv, v + i, cnt);
            VectorMath.StorePartial(pv, p + i, cnt);
        }
    }

    private struct Job : IRangeJob
    {
        public float* P, G, M, V;
        public Coef Coef;
        public int Length;

        public readonly void Run(int start, int end)
        {
            for (int ch = start; ch < end; ch++)
            {
                int o = ch * ChunkFloats;
                Update(P + o, G + o, M + o, V + o, Math.Min(ChunkFloats, Length - o), Coef);
            }
        }
    }
}
