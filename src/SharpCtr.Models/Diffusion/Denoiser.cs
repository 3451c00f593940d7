using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.Diffusion;

/// <summary>
/// ε_θ(x_t, t, c) = MLP([x_t; temb(t); c]), temb = Linear(sinusoidal(t)).
/// The first layer over the concatenation is held as three blocks, W·[x; temb; c] =
/// W_x·x + W_t·temb + W_c·c: the same function, but along a reverse chain W_c·c is computed once
/// (the condition does not change between steps) and W_t·temb(t) once per step for the whole batch.
/// </summary>
public sealed class Denoiser : Module
{
    public readonly int Dim, ConditionDim;
    readonly Tensor sinusoid;          // [T + 1, stepDim], constant
    readonly Linear stepProj, inX, inStep;
    readonly Linear? inCond;
    readonly Mlp rest;

    public Denoiser(int dim, int conditionDim, int stepDim, int[] hidden, int steps, Rng rng)
    {
        if (hidden.Length == 0) throw new ArgumentException("the denoiser needs at least one hidden layer");
        Dim = dim;
        ConditionDim = conditionDim;
        sinusoid = Sinusoid(steps, stepDim);
        stepProj = new Linear(stepDim, stepDim, rng);
        inX = new Linear(dim, hidden[0], rng);
        inStep = new Linear(stepDim, hidden[0], rng, bias: false);
        inCond = conditionDim > 0 ? new Linear(conditionDim, hidden[0], rng, bias: false) : null;
        rest = new Mlp(hidden[0], hidden[1..], rng, Activation.Relu, outputDim: dim);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("step_proj", stepProj);
        yield return ("in_x", inX);
        yield return ("in_step", inStep);
        if (inCond is not null) yield return ("in_cond", inCond);
        yield return ("rest", rest);
    }

    /// <summary>Transformer-style sinusoidal embedding of every step 0..T: [sin(t·ω_k), cos(t·ω_k)], ω_k = 10000^(−k/(D/2)).</summary>
    public static Tensor Sinusoid(int steps, int dim)
    {
        if (dim < 2 || dim % 2 != 0) throw new ArgumentException($"step embedding width must be even and ≥ 2, got {dim}");
        int half = dim / 2;
        var t = Tensor.Zeros(steps + 1, dim);
        for (int s = 0; s <= steps; s++)
            for (int k = 0; k < half; k++)
            {
                double w = Math.Pow(10000, -(double)k / half);
                t.Data[s * dim + k] = (float)Math.Sin(s * w);
                t.Data[s * dim + half + k] = (float)Math.Cos(s * w);
            }
        return t;
    }

    /// <summary>W_c·c, [B, H]: the condition's share of the first layer (null when unconditioned).</summary>
    public Tensor? ConditionPart(Tensor? condition)
    {
        if (condition is null) return null;
        if (inCond is null) throw new InvalidOperationException("this denoiser was built without a condition");
        return inCond.Forward(condition);
    }

    /// <summary>ε̂ for rows at their own steps <paramref name="steps"/> ([B]).</summary>
    public Tensor Predict(Tensor x, int[] steps, Tensor? conditionPart) =>
        Finish(Ops.Add(inX.Forward(x), StepPart(steps)), conditionPart);

    /// <summary>W_t·temb(t) for each of <paramref name="steps"/>, [K, H]: a reverse chain computes all of its steps' shares in one pass.</summary>
    public Tensor StepPart(int[] steps) => inStep.Forward(stepProj.Forward(Ops.IndexSelect(sinusoid, steps)));

    /// <summary>ε̂ for every row at the same step, given that step's share of the first layer ([1, H], a row of <see cref="StepPart"/>).</summary>
    public Tensor Predict(Tensor x, Tensor stepPart, Tensor? conditionPart) =>
        Finish(Ops.Add(inX.Forward(x), stepPart), conditionPart);

    /// <summary>
    /// The whole reverse chain in one fused kernel (inference only), or null when the kernel does
    /// not cover this denoiser (widths not multiples of 16, normalisation layers) or gradients are recorded.
    /// </summary>
    /// <param name="stepParts">[K, H] from <see cref="StepPart"/>, in chain order.</param>
    public Tensor? ReverseFused(Tensor x, Tensor stepParts, Tensor? conditionPart, float[] xScale, float[] epsScale)
    {
        // the kernel reads one condition row per row of x (the op path would broadcast a single row)
        if (Training || Tape.IsRecording || x.Cols != Dim || conditionPart is not null && conditionPart.Rows != x.Rows) return null;
        var first = InferenceForm.Of(inX, null, Activation.None);
        if (first is null || InferenceForm.Of(rest) is not { } form || form.Output is not { } output
            || !SharpCtr.Tensors.Kernels.DenoiserChainKernel.Supports(first, form.Hidden, output)) return null;
        var y = Tensor.Temp(x.Shape);
        x.Span.CopyTo(y.Span);
        SharpCtr.Tensors.Kernels.DenoiserChainKernel.Run(y.Data, x.Rows, conditionPart?.Data, stepParts.Data, xScale, epsScale, first, form.Hidden, output);
        return y;
    }

    Tensor Finish(Tensor h, Tensor? conditionPart)
    {
        if (conditionPart is not null) h = Ops.Add(h, conditionPart);
        return rest.Forward(Ops.Relu(h));
    }
}
