using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics;

namespace SharpCtr.Tensors.Optim;

/// <summary>
/// Adam as in torch.optim.Adam (amsgrad off): weight decay is L2, added to the gradient before
/// the moments; <c>p -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps)</c>.
/// Lazy (sparse-row) updates follow torch.optim.SparseAdam instead, whose eps sits outside the
/// bias correction: <c>p -= lr·sqrt(1-β2^t)/(1-β1^t) · m / (sqrt(v) + eps)</c>; t counts the steps
/// in which the table had any gradient, not per row.
/// </summary>
public class Adam : Optimizer
{
    public readonly float Beta1, Beta2, Eps;
    readonly bool decoupled;

    // per-parameter constants set by Begin
    float stepSize, invBiasCorrection2Sqrt, l2, decay;

    public Adam(IEnumerable<Tensor> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0f)
        : this([new ParamGroup(parameters, learningRate, weightDecay)], beta1, beta2, eps) { }

    public Adam(IEnumerable<ParamGroup> groups, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f)
        : this(groups, beta1, beta2, eps, decoupledWeightDecay: false) { }

    protected Adam(IEnumerable<ParamGroup> groups, float beta1, float beta2, float eps, bool decoupledWeightDecay)
        : base(groups, ["exp_avg", "exp_avg_sq"])
    {
        if (!(beta1 >= 0f && beta1 < 1f) || !(beta2 >= 0f && beta2 < 1f)) throw new ArgumentOutOfRangeException(nameof(beta1), $"betas must be in [0, 1), got ({beta1}, {beta2})");
        if (!(eps >= 0f)) throw new ArgumentOutOfRangeException(nameof(eps), $"eps must be >= 0, got {eps}");
        Beta1 = beta1; Beta2 = beta2; Eps = eps;
        decoupled = decoupledWeightDecay;
    }

    protected override void Begin(ParamGroup group, ParamState state, bool lazy)
    {
        // like PyTorch, the scalar arithmetic runs in double and is rounded once
        double lr = group.LearningRate;
        double bc1 = 1 - Math.Pow(Beta1, state.Step);
        double bc2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, state.Step));
        stepSize = (float)(lazy ? lr * bc2Sqrt / bc1 : lr / bc1);
        invBiasCorrection2Sqrt = lazy ? 1f : (float)(1 / bc2Sqrt);
        l2 = decoupled ? 0f : group.WeightDecay;
        decay = decoupled ? (float)(1 - lr * group.WeightDecay) : 1f;
    }

    protected override void Update(ParamState state, int offset, Span<float> param, ReadOnlySpan<float> grad)
    {
        var m = state.Buffers[0].Data.AsSpan(offset, param.Length);
        var v = state.Buffers[1].Data.AsSpan(offset, param.Length);
        Kernel(param, grad, m, v, Beta1, Beta2, l2, decay, stepSize, invBiasCorrection2Sqrt, Eps);
    }

    // Embedding rows are short (often 16 floats): set the constants up once, not per row. Rows
    // are distinct, so a long list is split over the kernel threads with the same bits (a DeepFM
    // step on MovieLens-1M updates ~4,500 rows of 16 per table: ~0.3 ms on one thread).
    protected override void UpdateRows(ParamState state, SparseRowGrad grad)
    {
        int rows = grad.Count;
        // each element reads and writes four arrays; the job is boxed once per parallel call, so it
        // carries references, not the constants' vectors
        Kernels.KernelThreads.Run(new RowsJob(this, state, grad), rows, Kernels.KernelThreads.ForElements(4L * rows * grad.Dim));
    }

    readonly struct RowsJob(Adam adam, ParamState state, SparseRowGrad grad) : Kernels.IRangeJob
    {
        public void Run(int start, int end)
        {
            var c = new Constants(adam.Beta1, adam.Beta2, adam.l2, adam.decay, adam.stepSize, adam.invBiasCorrection2Sqrt, adam.Eps);
            float[] p = state.Param.Data, m = state.Buffers[0].Data, v = state.Buffers[1].Data;
            var rows = grad.Rows;
            int dim = grad.Dim;
            for (int i = start; i < end; i++)
            {
                int o = rows[i] * dim;
                Adam.Run(ref p[o], ref MemoryMarshal.GetReference(grad.Values(i)), ref m[o], ref v[o], dim, in c);
            }
        }
    }

    /// <summary>
    /// One fused pass: g += l2·p; p *= decay; m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
    /// p -= stepSize · m / (sqrt(v)·invBc2Sqrt + eps).
    /// </summary>
    internal static void Kernel(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v,
        float beta1, float beta2, float l2, float decay, float stepSize, float invBc2Sqrt, float eps)
    {
        int n = p.Length;
        if (g.Length != n || m.Length != n || v.Length != n) throw new ArgumentException("Adam kernel: spans differ in length");
        var c = new Constants(beta1, beta2, l2, decay, stepSize, invBc2Sqrt, eps);
        Run(ref MemoryMarshal.GetReference(p), ref MemoryMarshal.GetReference(g), ref MemoryMarshal.GetReference(m), ref MemoryMarshal.GetReference(v), n, in c);
    }

    readonly struct Constants(float beta1, float beta2, float l2, float decay, float stepSize, float invBc2Sqrt, float eps)
    {
        public readonly float B1 = beta1, C1 = 1f - beta1, B2 = beta2, C2 = 1f - beta2, L2 = l2, Decay = decay, StepSize = stepSize, Inv = invBc2Sqrt, Eps = eps;
        public readonly Vector<float> VB1 = new(beta1), VC1 = new(1f - beta1), VB2 = new(beta2), VC2 = new(1f - beta2),
            VL2 = new(l2), VDecay = new(decay), VStep = new(stepSize), VInv = new(invBc2Sqrt), VEps = new(eps);
    }

    // The vector body and the scalar tail do the same IEEE operations in the same order (no
    // fused multiply-add), so results do not depend on the vector width or on how a tensor is
    // split between threads.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Run(ref float rp, ref float rg, ref float rm, ref float rv, int n, in Constants c)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var pv = Vector.LoadUnsafe(ref rp, (nuint)i);
                var gv = Vector.LoadUnsafe(ref rg, (nuint)i) + pv * c.VL2;
                var mv = Vector.LoadUnsafe(ref rm, (nuint)i) * c.VB1 + gv * c.VC1;
                var vv = Vector.LoadUnsafe(ref rv, (nuint)i) * c.VB2 + gv * gv * c.VC2;
                pv = pv * c.VDecay - c.VStep * (mv / (Vector.SquareRoot(vv) * c.VInv + c.VEps));
                mv.StoreUnsafe(ref rm, (nuint)i);
                vv.StoreUnsafe(ref rv, (nuint)i);
                pv.StoreUnsafe(ref rp, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float pi = Unsafe.Add(ref rp, i);
            float gi = Unsafe.Add(ref rg, i) + pi * c.L2;
            float mi = Unsafe.Add(ref rm, i) * c.B1 + gi * c.C1;
            float vi = Unsafe.Add(ref rv, i) * c.B2 + gi * gi * c.C2;
            Unsafe.Add(ref rm, i) = mi;
            Unsafe.Add(ref rv, i) = vi;
            Unsafe.Add(ref rp, i) = pi * c.Decay - c.StepSize * (mi / (MathF.Sqrt(vi) * c.Inv + c.Eps));
        }
    }
}
