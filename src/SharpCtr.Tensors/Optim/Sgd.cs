using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics;

namespace SharpCtr.Tensors.Optim;

/// <summary>
/// SGD as in torch.optim.SGD: d = g + weight_decay·p; with momentum μ the buffer is
/// b = d on the first step, then b = μ·b + (1-dampening)·d; the step uses b (or d + μ·b with
/// Nesterov); p -= lr·step. Lazy (sparse-row) updates keep momentum only for touched rows; the
/// "first step" is the parameter's first step, so a row first touched later starts from a
/// zero buffer (identical unless dampening is non-zero).
/// </summary>
public sealed class Sgd : Optimizer
{
    public readonly float Momentum, Dampening;
    public readonly bool Nesterov;

    float lr, weightDecay, bufferGradScale, bufferDecay;

    public Sgd(IEnumerable<Tensor> parameters, float learningRate, float momentum = 0f, float dampening = 0f, bool nesterov = false, float weightDecay = 0f)
        : this([new ParamGroup(parameters, learningRate, weightDecay)], momentum, dampening, nesterov) { }

    public Sgd(IEnumerable<ParamGroup> groups, float momentum = 0f, float dampening = 0f, bool nesterov = false)
        : base(groups, momentum != 0f ? ["momentum_buffer"] : [])
    {
        if (!(momentum >= 0f)) throw new ArgumentOutOfRangeException(nameof(momentum), $"momentum must be >= 0, got {momentum}");
        if (nesterov && (momentum <= 0f || dampening != 0f)) throw new ArgumentException("Nesterov momentum needs momentum > 0 and zero dampening");
        Momentum = momentum; Dampening = dampening; Nesterov = nesterov;
    }

    protected override void Begin(ParamGroup group, ParamState state, bool lazy)
    {
        lr = group.LearningRate;
        weightDecay = group.WeightDecay;
        bool first = state.Step == 1;
        bufferDecay = first ? 0f : Momentum;
        bufferGradScale = first ? 1f : 1f - Dampening;
    }

    protected override void Update(ParamState state, int offset, Span<float> param, ReadOnlySpan<float> grad)
    {
        if (Momentum == 0f) { Kernel(param, grad, default, weightDecay, 0f, 0f, 0f, false, lr); return; }
        var buf = state.Buffers[0].Data.AsSpan(offset, param.Length);
        Kernel(param, grad, buf, weightDecay, bufferDecay, bufferGradScale, Momentum, Nesterov, lr);
    }

    static void Kernel(Span<float> p, ReadOnlySpan<float> g, Span<float> buf, float wd, float bufDecay, float bufGradScale,
        float momentum, bool nesterov, float lr)
    {
        int n = p.Length;
        bool useBuf = !buf.IsEmpty;
        ref float rp = ref MemoryMarshal.GetReference(p);
        ref float rg = ref MemoryMarshal.GetReference(g);
        ref float rb = ref MemoryMarshal.GetReference(buf);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vwd = new Vector<float>(wd); var vlr = new Vector<float>(lr); var vmu = new Vector<float>(momentum);
            var vbd = new Vector<float>(bufDecay); var vbg = new Vector<float>(bufGradScale);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var pv = Vector.LoadUnsafe(ref rp, (nuint)i);
                var d = Vector.LoadUnsafe(ref rg, (nuint)i) + pv * vwd;
                if (useBuf)
                {
                    var b = Vector.LoadUnsafe(ref rb, (nuint)i) * vbd + d * vbg;
                    b.StoreUnsafe(ref rb, (nuint)i);
                    d = nesterov ? d + vmu * b : b;
                }
                (pv - vlr * d).StoreUnsafe(ref rp, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float pi = Unsafe.Add(ref rp, i);
            float d = Unsafe.Add(ref rg, i) + pi * wd;
            if (useBuf)
            {
                float b = Unsafe.Add(ref rb, i) * bufDecay + d * bufGradScale;
                Unsafe.Add(ref rb, i) = b;
                d = nesterov ? d + momentum * b : b;
            }
            Unsafe.Add(ref rp, i) = pi - lr * d;
        }
    }
}
