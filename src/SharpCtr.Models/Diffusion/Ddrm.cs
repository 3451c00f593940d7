using SharpCtr.Data.Batching;
using SharpCtr.Models.BehaviorSequence;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.Diffusion;

/// <summary>
/// DDRM (Zhao et al., SIGIR 2024, "Denoising Diffusion Recommender Model"): user and item
/// embeddings are made robust to noisy feedback by a diffusion process over the embeddings.
/// Forward: e_t = √ᾱ_t e_0 + √(1 − ᾱ_t) ε with a linear β schedule. Reverse: a user denoiser
/// guided by collaborative information (the mean embedding of the user's liked items) and an
/// item denoiser guided by the interacting user's embedding predict e_0 from (e_t, guide, step).
/// Training: one random step per sample, reconstruction MSE (aux loss "ddrm_denoise",
/// weight denoise_weight) and the CTR loss through the denoised embeddings. Inference: the paper
/// starts the forward-reverse process from the average embedding of the user's liked items to
/// generate the "ideal item"; here that ideal item (item denoiser run from the noised history mean,
/// guided by the user) is scored against the denoised target item, and the score joins the MLP.
/// Deviations: the paper ranks all items by similarity to the ideal item after a BPR-trained
/// backend; for CTR the backend is DIN's head (fields + mean history key) reading the denoised
/// user/item embeddings, the ideal item and its dot product with the target. The inference
/// reverse process is deterministic (DDIM, η = 0, started from √ᾱ_T' e_0 without sampled noise) so
/// a sample's score does not depend on its batch.
/// Config: embedding_dim (16), user_field (user_id), steps (10), inference_steps (5),
/// noise_scale (0.1), noise_min (1e-4), noise_max (0.02), denoiser_units ([64]),
/// denoise_weight (1.0), mlp/activation/dropout/fields as DIN.
/// </summary>
public sealed class Ddrm : CtrModel
{
    readonly FeatureEmbeddings emb;
    readonly string userField, itemField;
    readonly string[] queryFields;
    readonly Mlp userDenoiser, itemDenoiser;
    readonly SequenceHead head;
    readonly int steps, inferenceSteps, dim;
    readonly float[] alphaBar;        // ᾱ_t for t = 0..steps (ᾱ_0 = 1)
    readonly float[] stepTable;       // sinusoidal step embedding, [steps + 1, dim]
    readonly float denoiseWeight;
    readonly Rng noise;

    public Ddrm(ModelContext ctx)
    {
        var c = ctx.Config;
        dim = c.GetInt("embedding_dim", 16, min: 1);
        emb = new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng);
        userField = c.GetString("user_field", "user_id");
        queryFields = TargetQuery.Fields(ctx, "DDRM");
        itemField = queryFields[0];
        if (ctx.Schema.Fields.All(f => f.Name != userField))
            throw new Data.Config.ConfigException($"{c.Where}: user_field '{userField}' is not a field of data set '{ctx.Schema.Name}'");
        steps = c.GetInt("steps", 10, min: 1);
        inferenceSteps = Math.Min(c.GetInt("inference_steps", 5, min: 1), steps);
        double scale = c.GetDouble("noise_scale", 0.1, min: 0), lo = c.GetDouble("noise_min", 1e-4, min: 0), hi = c.GetDouble("noise_max", 0.02, min: 0);
        alphaBar = new float[steps + 1];
        alphaBar[0] = 1f;
        for (int t = 1; t <= steps; t++)
        {
            double beta = scale * (lo + (hi - lo) * (t - 1) / Math.Max(1, steps - 1));
            alphaBar[t] = (float)(alphaBar[t - 1] * (1 - beta));
        }
        stepTable = new float[(steps + 1) * dim];
        for (int t = 0; t <= steps; t++)
            for (int i = 0; i < dim / 2; i++)
            {
                double f = t / Math.Pow(10000, 2.0 * i / dim);
                stepTable[t * dim + 2 * i] = (float)Math.Sin(f);
                stepTable[t * dim + 2 * i + 1] = (float)Math.Cos(f);
            }
        var units = ModelConfig.Ints(c, "denoiser_units", [64]);
        userDenoiser = new Mlp(3 * dim, units, ctx.Rng, Activation.Tanh, outputDim: dim);
        itemDenoiser = new Mlp(3 * dim, units, ctx.Rng, Activation.Tanh, outputDim: dim);
        denoiseWeight = (float)c.GetDouble("denoise_weight", 1.0, min: 0);
        head = new SequenceHead(c, emb, 3 * dim + 1 + emb.SequenceWidth(), ctx.Rng);
        noise = ctx.Rng.Fork();
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("embeddings", emb);
        yield return ("user_denoiser", userDenoiser);
        yield return ("item_denoiser", itemDenoiser);
        yield return ("head", head);
    }

    protected override IEnumerable<(string, Rng)> LocalRngs() { yield return ("noise", noise); }

    Tensor StepEmbedding(int[] t)
    {
        var e = new float[t.Length * dim];
        for (int r = 0; r < t.Length; r++) Array.Copy(stepTable, t[r] * dim, e, r * dim, dim);
        return Tensor.FromArray(e, t.Length, dim);
    }

    static Tensor Column(float[] v) => Tensor.FromArray(v, v.Length, 1);

    static Tensor Denoise(Mlp denoiser, Tensor x, Tensor guide, Tensor step) => denoiser.Forward(Ops.Concat([x, guide, step], 1));

    /// <summary>Training: one step t ~ U{1..T} per sample, e_t from sampled noise, one denoiser call.</summary>
    (Tensor Denoised, Tensor Start) NoisedOnce(Mlp denoiser, Tensor x0, Tensor guide, int n)
    {
        var t = new int[n];
        var keep = new float[n];
        var mix = new float[n];
        var eps = new float[n * dim];
        for (int r = 0; r < n; r++)
        {
            t[r] = 1 + noise.NextInt(steps);
            keep[r] = MathF.Sqrt(alphaBar[t[r]]);
            mix[r] = MathF.Sqrt(1 - alphaBar[t[r]]);
            for (int j = 0; j < dim; j++) eps[r * dim + j] = (float)noise.NextNormal();
        }
        var xt = Ops.Add(Ops.Mul(x0, Column(keep)), Ops.Mul(Tensor.FromArray(eps, n, dim), Column(mix)));
        return (Denoise(denoiser, xt, guide, StepEmbedding(t)), xt);
    }

    /// <summary>Inference: deterministic forward to step T' (no sampled noise) and DDIM reverse steps T'..1.</summary>
    Tensor Reverse(Mlp denoiser, Tensor x0, Tensor guide, int n)
    {
        var x = Ops.MulScalar(x0, MathF.Sqrt(alphaBar[inferenceSteps]));
        Tensor estimate = x0;
        for (int t = inferenceSteps; t >= 1; t--)
        {
            var ts = new int[n];
            Array.Fill(ts, t);
            estimate = Denoise(denoiser, x, guide, StepEmbedding(ts));
            float a = alphaBar[t], aPrev = alphaBar[t - 1];
            var epsHat = Ops.MulScalar(Ops.Sub(x, Ops.MulScalar(estimate, MathF.Sqrt(a))), 1f / MathF.Sqrt(1 - a));
            x = Ops.Add(Ops.MulScalar(estimate, MathF.Sqrt(aPrev)), Ops.MulScalar(epsHat, MathF.Sqrt(1 - aPrev)));
        }
        return estimate;
    }

    public override ModelOutput Forward(Batch b)
    {
        int n = b.Count;
        var user = emb.Field(b, userField);                                  // [B, D]
        var item = emb.Field(b, itemField);
        var pooled = emb.PooledSequence(b);
        var liked = pooled[0];                                               // mean embedding of the user's liked items
        Tensor userHat, itemHat, ideal;
        Tensor? denoiseLoss = null;
        if (Training)
        {
            (userHat, _) = NoisedOnce(userDenoiser, user, liked, n);
            (itemHat, _) = NoisedOnce(itemDenoiser, item, user, n);
            (ideal, _) = NoisedOnce(itemDenoiser, liked, user, n);
            denoiseLoss = Ops.Add(Ops.Mse(userHat, user), Ops.Mse(itemHat, item));
        }
        else
        {
            userHat = Reverse(userDenoiser, user, liked, n);
            itemHat = Reverse(itemDenoiser, item, user, n);
            ideal = Reverse(itemDenoiser, liked, user, n);
        }
        var match = Ops.Sum(Ops.Mul(ideal, itemHat), 1, keepDim: true);     // [B, 1]
        var output = new ModelOutput(head.Logits(b, userHat, itemHat, ideal, match, Ops.Concat(pooled, 1)));
        if (denoiseLoss is not null && denoiseWeight > 0) output.AuxLosses.Add(("ddrm_denoise", Ops.MulScalar(denoiseLoss, denoiseWeight)));
        return output;
    }
}
