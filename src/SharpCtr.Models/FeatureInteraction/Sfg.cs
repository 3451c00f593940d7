using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.FeatureInteraction;

/// <summary>
/// SFG, supervised feature generation (Yin et al., ICML 2025), on its DeepFM backbone. Instead of
/// crossing raw embeddings with each other, an encoder builds a hidden vector for every field from
/// all fields' embeddings ("all predict all") and a per-field decoder regenerates that field's
/// embedding ĝ_f from it; the FM part then crosses generated with raw embeddings,
/// Σ_{i&lt;j} ⟨ĝ_i, e_j⟩. The generation is trained by the click loss alone (supervised, no
/// reconstruction loss). logit = b + Σ w(x_f) + Σ_{i&lt;j} ⟨ĝ_i, e_j⟩ + MLP(flatten(e)).
/// Config: encoder_activation (none | relu; none = the authors' default "linear"), embedding_dim (16),
/// mlp ([256, 256, 256]), activation, dropout, batch_norm, fields, sequence.
/// What could not be established (the paper's full text and the authors' generator module were not
/// available; their DeepFM file and configs were): the encoder's exact form. Ours is one linear map
/// from the concatenated embeddings to F hidden vectors of width D, and the decoder one D×D map per
/// field (batched); the crossing of generated with raw embeddings follows the authors' DeepFM.
/// </summary>
public sealed class Sfg : CtrModel
{
    readonly FieldInputs linear, factors;
    readonly Tensor bias = Tensor.Parameter("bias", 1);
    readonly Linear encoder;
    readonly Tensor decoder, decoderBias;      // [F, D, D] and [F, D]
    readonly bool reluEncoder;
    readonly FieldPairs pairs;
    readonly Mlp mlp;
    readonly int dim;

    public Sfg(ModelContext ctx)
    {
        var c = ctx.Config;
        dim = c.GetInt("embedding_dim", 16, min: 1);
        reluEncoder = c.GetChoice("encoder_activation", "none", "none", "relu") == "relu";
        linear = new FieldInputs(new FeatureEmbeddings(ctx.Schema, 1, ctx.Rng), c);
        factors = new FieldInputs(new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng), c);
        int f = factors.Count;
        encoder = new Linear(f * dim, f * dim, ctx.Rng);
        decoder = Tensor.Parameter("decoder", f, dim, dim);
        decoderBias = Tensor.Parameter("decoder_bias", f, dim);
        float a = MathF.Sqrt(3f / dim);
        Init.Uniform(decoder, ctx.Rng, -a, a);
        pairs = new FieldPairs(f);
        mlp = ZooMlp.Build(c, f * dim, ctx.Rng);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters()
    {
        yield return ("bias", bias);
        yield return ("decoder", decoder);
        yield return ("decoder_bias", decoderBias);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("linear", linear.Embeddings);
        yield return ("factors", factors.Embeddings);
        yield return ("encoder", encoder);
        yield return ("mlp", mlp);
    }

    public override ModelOutput Forward(Batch b)
    {
        int n = b.Count;
        var e = FactorizationMachine.Stack(factors, b);                                 // [B, F, D]
        int f = e.Shape[1];
        var flat = Ops.Reshape(e, n, -1);
        var hidden = encoder.Forward(flat);
        if (reluEncoder) hidden = Ops.Relu(hidden);
        var perField = Ops.Permute(Ops.Reshape(hidden, n, f, dim), 1, 0, 2);            // [F, B, D]
        var generated = Ops.Add(Ops.Permute(Ops.MatMul(perField, decoder), 1, 0, 2), decoderBias);   // [B, F, D]
        var crossed = Ops.Sum(pairs.InnerProducts(generated, e), 1);                     // [B]
        var deep = Ops.Reshape(mlp.Forward(flat, factors.UserColumns), n);
        return new(Ops.Add(Ops.Add(LogisticRegression.FirstOrder(linear, bias, b), crossed), deep));
    }
}
