using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics;

namespace SharpCtr.Tensors.Optim;

/// <summary>
/// Adagrad as in torch.optim.Adagrad: d = g + weight_decay·p; sum += d²;
/// p -= lr/(1 + (t-1)·lr_decay) · d / (sqrt(sum) + eps). Its sparse form in PyTorch already
/// updates only touched rows, so the lazy update here is the same computation.
/// </summary>
public sealed class Adagrad : Optimizer
{
    public readonly float LearningRateDecay, Eps;

    float clr, weightDecay;

    public Adagrad(IEnumerable<Tensor> parameters, float learningRate = 1e-2f, float learningRateDecay = 0f, float weightDecay = 0f,
        float initialAccumulatorValue = 0f, float eps = 1e-10f)
        : this([new ParamGroup(parameters, learningRate, weightDecay)], learningRateDecay, initialAccumulatorValue, eps) { }

    public Adagrad(IEnumerable<ParamGroup> groups, float learningRateDecay = 0f, float initialAccumulatorValue = 0f, float eps = 1e-10f)
        : base(groups, ["sum"], initialAccumulatorValue)
    {
        if (!(initialAccumulatorValue >= 0f)) throw new ArgumentOutOfRangeException(nameof(initialAccumulatorValue), $"initial accumulator must be >= 0, got {initialAccumulatorValue}");
        LearningRateDecay = learningRateDecay; Eps = eps;
    }

    protected override void Begin(ParamGroup group, ParamState state, bool lazy)
    {
        clr = (float)(group.LearningRate / (1 + (state.Step - 1) * (double)LearningRateDecay));
        weightDecay = group.WeightDecay;
    }

    protected override void Update(ParamState state, int offset, Span<float> param, ReadOnlySpan<float> grad)
    {
        var sum = state.Buffers[0].Data.AsSpan(offset, param.Length);
        int n = param.Length;
        ref float rp = ref MemoryMarshal.GetReference(param);
        ref float rg = ref MemoryMarshal.GetReference(grad);
        ref float rs = ref MemoryMarshal.GetReference(sum);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vwd = new Vector<float>(weightDecay); var vclr = new Vector<float>(clr); var veps = new Vector<float>(Eps);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var pv = Vector.LoadUnsafe(ref rp, (nuint)i);
                var d = Vector.LoadUnsafe(ref rg, (nuint)i) + pv * vwd;
                var s = Vector.LoadUnsafe(ref rs, (nuint)i) + d * d;
                s.StoreUnsafe(ref rs, (nuint)i);
                (pv - vclr * (d / (Vector.SquareRoot(s) + veps))).StoreUnsafe(ref rp, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float pi = Unsafe.Add(ref rp, i);
            float d = Unsafe.Add(ref rg, i) + pi * weightDecay;
            float s = Unsafe.Add(ref rs, i) + d * d;
            Unsafe.Add(ref rs, i) = s;
            Unsafe.Add(ref rp, i) = pi - clr * (d / (MathF.Sqrt(s) + Eps));
        }
    }
}
