using SharpCtr.Data.Config;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.Diffusion;

/// <summary>
/// The diffusion part shared by CDP and the DiffRec-style baseline: turns an observed interest
/// vector x0 (and an optional condition) into the purified vector h, and yields the denoising
/// loss. Training: t ~ U{1..T}, ε ~ N(0, I), L_noise = λ·mean‖ε − ε_θ(x_t, t, c)‖², and h from
/// `train_h`: the K-step reverse chain from x0 noised to the start step (gradients through the
/// chain) or the one-step estimate x̂0 at the sampled t. Inference: x0 scaled to the start step
/// with ε = 0 (the mean of q(x_start | x0)) and the deterministic respaced chain, so the same
/// input always gives the same h. train_start: noised (the spec) starts the training chain from a
/// sampled x_start, so the prediction network learns on h from noised starts but is served h from
/// the mean start; mean starts training where inference starts (the chain is then the same
/// function of x0 in both; the noise loss still trains the denoiser on sampled x_t).
/// The models hand their pooled history to <see cref="Observed"/>, which owns how x0 enters:
/// x0_norm: layer normalises it, because the β schedule (ᾱ_100 ≈ 0.47) assumes unit-scale data
/// while embeddings start at std 1e-4 and would be drowned by ε; x0_gradient: stop keeps the loss
/// from reaching the pooled embeddings through it — the normalisation scales that gradient by
/// 1/σ(x0), about 10⁴ near the embeddings' start, so under Adam the h path can decide alone how a
/// shared item table moves (better on small logs, worse on MovieLens-1M:
/// docs/results/cdp/choices.md; the default is pass).
/// Config: diffusion_steps (100), beta_start (0.005), beta_end (0.01), start_step (T),
/// train_steps (20), inference_steps (20), train_h (reverse_chain | one_step), train_start
/// (noised | mean), noise_weight (1), denoiser ([64, 64]), step_dim (16), x0_norm (layer | none),
/// x0_gradient (pass | stop).
/// </summary>
public sealed class DiffusionPurifier : Module
{
    public readonly DiffusionSchedule Schedule;
    public readonly Denoiser Denoiser;
    public readonly int StartStep, TrainSteps;
    int inferenceSteps;

    /// <summary>Reverse steps at inference; settable so one trained model can be measured at several step counts.</summary>
    public int InferenceSteps
    {
        get => inferenceSteps;
        set => inferenceSteps = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), $"inference steps must be positive, got {value}");
    }
    readonly bool oneStepTraining, meanStartTraining, normaliseX0, stopX0Gradient;
    /// <summary>Whether inference runs the chain as one fused kernel where it can (tests compare it with the op-by-op chain).</summary>
    public bool FusedInference { get; set; } = true;
    readonly float noiseWeight;
    readonly Rng rng;
    protected override IEnumerable<(string, Rng)> LocalRngs() { yield return ("noise", rng); }

    public DiffusionPurifier(ConfigSection c, int dim, int conditionDim, Rng rng)
    {
        int steps = c.GetInt("diffusion_steps", 100, min: 1);
        Schedule = new DiffusionSchedule(steps, c.GetDouble("beta_start", 0.005, min: 0, below: 1), c.GetDouble("beta_end", 0.01, min: 0, below: 1));
        StartStep = c.GetInt("start_step", steps, min: 1, max: steps);
        TrainSteps = c.GetInt("train_steps", 20, min: 1);
        inferenceSteps = c.GetInt("inference_steps", 20, min: 1);
        oneStepTraining = c.GetChoice("train_h", "reverse_chain", "reverse_chain", "one_step") == "one_step";
        meanStartTraining = c.GetChoice("train_start", "noised", "noised", "mean") == "mean";
        normaliseX0 = c.GetChoice("x0_norm", "layer", "layer", "none") == "layer";
        stopX0Gradient = c.GetChoice("x0_gradient", "pass", "pass", "stop") == "stop";
        if (oneStepTraining && meanStartTraining) throw new ConfigException($"{c.Where}: train_start: mean applies to train_h: reverse_chain (one_step has no chain start)");
        noiseWeight = (float)c.GetDouble("noise_weight", 1.0, min: 0);
        Denoiser = new Denoiser(dim, conditionDim, c.GetInt("step_dim", 16, min: 1), ModelConfig.Ints(c, "denoiser", [64, 64], minCount: 1), steps, rng);
        this.rng = rng.Fork();
    }

    protected override IEnumerable<(string, Module)> Children() { yield return ("denoiser", Denoiser); }

    /// <summary>x0 from a model's pooled history [B, D]: its gradient cut when x0_gradient is stop, then
    /// <paramref name="offset"/> added (a learned term that keeps its gradient), then layer-normalised.</summary>
    public Tensor Observed(Tensor pooled, Tensor? offset = null)
    {
        var x0 = stopX0Gradient ? Ops.StopGradient(pooled) : pooled;
        if (offset is not null) x0 = Ops.Add(x0, offset);
        return normaliseX0 ? Ops.LayerNorm(x0, null, null) : x0;
    }

    /// <summary>h [B, D] from x0 [B, D] and condition [B, C] (or null); the weighted noise loss when training.</summary>
    public (Tensor H, Tensor? NoiseLoss) Purify(Tensor x0, Tensor? condition)
    {
        var condPart = Denoiser.ConditionPart(condition);
        if (!Training) return (Reverse(Ops.MulScalar(x0, Schedule.Marginal(StartStep).SignalScale), StartStep, InferenceSteps, condPart), null);

        int n = x0.Shape[0], d = x0.Shape[1];
        var t = new int[n];
        var a = Tensor.Temp([n, 1]);
        var s = Tensor.Temp([n, 1]);
        for (int r = 0; r < n; r++)
        {
            t[r] = 1 + rng.NextInt(Schedule.Steps);
            (a.Data[r], s.Data[r]) = Schedule.Marginal(t[r]);
        }
        var eps = Normal(n, d);
        // The noise loss sees x0 as a constant: with gradients into x0 it could be minimised by
        // making every pooled vector alike (then ε is readable from x_t), which would erase the
        // very signal the purifier is meant to clean.
        var x0Const = Ops.StopGradient(x0);
        var epsHat = Denoiser.Predict(Noised(x0Const, a, eps, s), t, condPart);
        var loss = Ops.MulScalar(Ops.Mse(epsHat, eps), noiseWeight);

        if (oneStepTraining)
        {
            var xt = Noised(x0, a, eps, s);
            var e = Denoiser.Predict(xt, t, condPart);
            return (Ops.Div(Ops.Sub(xt, Ops.Mul(s, e)), a), loss);
        }
        var (sa, sn) = Schedule.Marginal(StartStep);
        var start = meanStartTraining ? Ops.MulScalar(x0, sa) : Ops.Add(Ops.MulScalar(x0, sa), Ops.MulScalar(Normal(n, d), sn));
        return (Reverse(start, StartStep, TrainSteps, condPart), loss);
    }

    static Tensor Noised(Tensor x0, Tensor a, Tensor eps, Tensor s) => Ops.Add(Ops.Mul(x0, a), Ops.Mul(eps, s));

    Tensor Normal(int n, int d)
    {
        var e = Tensor.Temp([n, d]);
        for (int i = 0; i < e.Size; i++) e.Data[i] = (float)rng.NextNormal();
        return e;
    }

    /// <summary>The deterministic respaced reverse chain from x at step <paramref name="from"/> down to step 0.</summary>
    public Tensor Reverse(Tensor x, int from, int steps, Tensor? conditionPart)
    {
        var chain = Schedule.Respaced(from, steps);
        var taus = new int[chain.Length];
        for (int k = 0; k < chain.Length; k++) taus[k] = chain[k].From;
        var stepParts = Denoiser.StepPart(taus);                          // [K, H]
        if (FusedInference)
        {
            var cx = new float[chain.Length];
            var ce = new float[chain.Length];
            for (int k = 0; k < chain.Length; k++) (cx[k], ce[k]) = Schedule.ReverseCoefficients(chain[k].From, chain[k].To);
            if (Denoiser.ReverseFused(x, stepParts, conditionPart, cx, ce) is { } fused) return fused;
        }
        for (int k = 0; k < chain.Length; k++)
        {
            var (cx, ce) = Schedule.ReverseCoefficients(chain[k].From, chain[k].To);
            var epsHat = Denoiser.Predict(x, Ops.Slice(stepParts, 0, k, 1), conditionPart);
            x = Ops.Sub(Ops.MulScalar(x, cx), Ops.MulScalar(epsHat, ce));
        }
        return x;
    }
}
