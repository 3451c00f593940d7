using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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

    /// <summary>
    /// One fused pass: g += l2·p; p *= decay; m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
    /// p -= stepSize · m / (sqrt(v)·invBc2Sqrt + eps). The vector body and the scalar tail do the
    /// same IEEE operations in the same order, so results do not depend on the vector width.
    /// </summary>
    internal static void Kernel(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v,
        float beta1, float beta2, float l2, float decay, float stepSize, float invBc2Sqrt, float eps)
    {
        int n = p.Length;
        if (g.Length != n || m.Length != n || v.Length != n) throw new ArgumentException("Adam kernel: spans differ in length");
        float c1 = 1f - beta1, c2 = 1f - beta2;
        ref float rp = ref MemoryMarshal.GetReference(p);
        ref float rg = ref MemoryMarshal.GetReference(g);
        ref float rm = ref MemoryMarshal.GetReference(m);
        ref float rv = ref MemoryMarshal.GetReference(v);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vb1 = Vector512.Create(beta1); var vc1 = Vector512.Create(c1);
            var vb2 = Vector512.Create(beta2); var vc2 = Vector512.Create(c2);
            var vl2 = Vector512.Create(l2); var vdecay = Vector512.Create(decay);
            var vstep = Vector512.Create(stepSize); var vinv = Vector512.Create(invBc2Sqrt); var veps = Vector512.Create(eps);
            for (; i <= n - 16; i += 16)
            {
                var pv = Vector512.LoadUnsafe(ref rp, (nuint)i);
                var gv = Vector512.LoadUnsafe(ref rg, (nuint)i) + pv * vl2;
                var mv = Vector512.LoadUnsafe(ref rm, (nuint)i) * vb1 + gv * vc1;
                var vv = Vector512.LoadUnsafe(ref rv, (nuint)i) * vb2 + gv * gv * vc2;
                pv = pv * vdecay - vstep * (mv / (Vector512.Sqrt(vv) * vinv + veps));
                mv.StoreUnsafe(ref rm, (nuint)i);
                vv.StoreUnsafe(ref rv, (nuint)i);
                pv.StoreUnsafe(ref rp, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float pi = Unsafe.Add(ref rp, i);
            float gi = Unsafe.Add(ref rg, i) + pi * l2;
            float mi = Unsafe.Add(ref rm, i) * beta1 + gi * c1;
            float vi = Unsafe.Add(ref rv, i) * beta2 + gi * gi * c2;
            Unsafe.Add(ref rm, i) = mi;
            Unsafe.Add(ref rv, i) = vi;
            Unsafe.Add(ref rp, i) = pi * decay - stepSize * (mi / (MathF.Sqrt(vi) * invBc2Sqrt + eps));
        }
    }
}
