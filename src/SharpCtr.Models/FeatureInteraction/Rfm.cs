using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.FeatureInteraction;

/// <summary>
/// RFM, rotative factorization machines (Tian et al., KDD 2024). Each feature's embedding is read
/// as polar angles θ_f (one per dimension) of unit complex numbers e^{iθ_f}; a product of features
/// with orders α_f is then the single rotation e^{i Σ_f α_f θ_f}, so interaction orders become
/// real coefficients on angles and may be arbitrarily large. A self-attentive rotation layer learns
/// the coefficients per context: scores come from the rotations themselves,
/// s_ij = Re⟨e^{iθ_i W_Q}, e^{iθ_j W_K}⟩/√d = Σ_d cos(q_id − k_jd)/√d (one GEMM over [cos; sin]),
/// and the new angles are φ_i = Σ_j softmax_j(s_ij) θ_j W_V. A modulus amplification network gives
/// each output its length r_i = softplus(MLP(all embeddings)); the layer's output r ⊙ (cos φ, sin φ)
/// (real and imaginary parts) feeds a linear logit, and φ is the next layer's angles.
/// Config: layers (2), rotation_dim (16), modulus_mlp ([256]), embedding_dim (16), fields, sequence.
/// What could not be established from public descriptions (the paper's text was not available,
/// only its abstract and reviews): the exact score function, whether the modulus network sees all
/// fields or each field alone, its depth, and whether layers are stacked or summed. Those choices
/// above are ours; the idea — angles, rotation coefficients from rotation-based attention, a
/// learned modulus — is the paper's. A bias and first-order term are added, as in FM.
/// </summary>
public sealed class Rfm : CtrModel
{
    readonly FieldInputs linear, angles;
    readonly Tensor bias = Tensor.Parameter("bias", 1);
    readonly RotationLayer[] layers;
    readonly Mlp modulus;
    readonly Linear head;
    readonly int rotationDim;

    public Rfm(ModelContext ctx)
    {
        var c = ctx.Config;
        int dim = c.GetInt("embedding_dim", 16, min: 1), count = c.GetInt("layers", 2, min: 1);
        rotationDim = c.GetInt("rotation_dim", 16, min: 1);
        linear = new FieldInputs(new FeatureEmbeddings(ctx.Schema, 1, ctx.Rng), c);
        angles = new FieldInputs(new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng), c);
        int f = angles.Count;
        layers = new RotationLayer[count];
        for (int i = 0; i < count; i++) layers[i] = new RotationLayer(i == 0 ? dim : rotationDim, rotationDim, ctx.Rng);
        modulus = new Mlp(f * dim, ModelConfig.Ints(c, "modulus_mlp", [256]), ctx.Rng, outputDim: f * rotationDim);
        head = new Linear(f * 2 * rotationDim, 1, ctx.Rng, bias: false);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters() { yield return ("bias", bias); }
    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("linear", linear.Embeddings);
        yield return ("angles", angles.Embeddings);
        for (int i = 0; i < layers.Length; i++) yield return ("rotation." + i, layers[i]);
        yield return ("modulus", modulus);
        yield return ("head", head);
    }

    public override ModelOutput Forward(Batch b)
    {
        int n = b.Count;
        var theta = FactorizationMachine.Stack(angles, b);                                  // [B, F, D]
        int f = theta.Shape[1];
        var phi = theta;
        foreach (var layer in layers) phi = layer.Forward(phi);                              // [B, F, R]
        var r = Ops.Reshape(Ops.Softplus(modulus.Forward(Ops.Reshape(theta, n, -1))), n, f, rotationDim);
        var z = Ops.Concat([Ops.Mul(r, Ops.Cos(phi)), Ops.Mul(r, Ops.Sin(phi))], 2);          // [B, F, 2R]
        var rotated = Ops.Reshape(head.Forward(Ops.Reshape(z, n, -1)), n);
        return new(Ops.Add(LogisticRegression.FirstOrder(linear, bias, b), rotated));
    }

    /// <summary>Self-attentive rotation: angles [B, F, In] → combined angles [B, F, R].</summary>
    sealed class RotationLayer(int inDim, int outDim, Rng rng) : Module
    {
        readonly Linear q = new(inDim, outDim, rng, bias: false), k = new(inDim, outDim, rng, bias: false), v = new(inDim, outDim, rng, bias: false);

        protected override IEnumerable<(string, Module)> Children()
        {
            yield return ("q", q);
            yield return ("k", k);
            yield return ("v", v);
        }

        public Tensor Forward(Tensor theta)
        {
            var qa = q.Forward(theta);
            var ka = k.Forward(theta);
            var unitQ = Ops.Concat([Ops.Cos(qa), Ops.Sin(qa)], 2);                           // [B, F, 2R]
            var unitK = Ops.Concat([Ops.Cos(ka), Ops.Sin(ka)], 2);
            var scores = Ops.MulScalar(Ops.MatMul(unitQ, unitK, transB: true), 1f / MathF.Sqrt(outDim));   // Σ cos(q − k)
            return Ops.MatMul(Ops.Softmax(scores), v.Forward(theta));
        }
    }
}
