using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.FeatureInteraction;

/// <summary>
/// xDeepFM (Lian et al., KDD 2018): a compressed interaction network (CIN) beside an MLP and a
/// linear term. CIN layer k maps X^{k−1} [H_{k−1}, D] and the field embeddings X⁰ [m, D] to
/// X^k_h = Σ_{i,j} W^{k,h}_{ij} (X^{k−1}_i ⊙ X⁰_j) — vector-wise interactions of order k+1 — and
/// each layer's maps are sum-pooled over D; logit = b + Σ w(x_f) + w·[pooled] + MLP(flatten(X⁰)).
/// Config: cin ([32, 32, 32]), embedding_dim (16), mlp ([256, 256, 256]), activation, dropout,
/// batch_norm, fields, sequence.
/// Deviations: every CIN layer connects straight to the output (no split-half, as FuxiCTR), with
/// identity activation and no bias on the feature maps (a constant map adds nothing the linear
/// term cannot). The maps are laid out [H, B·D] so a layer is one broadcast multiply and one GEMM.
/// </summary>
public sealed class XDeepFm : CtrModel
{
    readonly FieldInputs linear, factors;
    readonly Tensor bias = Tensor.Parameter("bias", 1);
    readonly Tensor[] cin;                 // [H_{k−1}·m, H_k] per layer
    readonly Linear cinHead;
    readonly Mlp mlp;

    public XDeepFm(ModelContext ctx)
    {
        var c = ctx.Config;
        int dim = c.GetInt("embedding_dim", 16, min: 1);
        linear = new FieldInputs(new FeatureEmbeddings(ctx.Schema, 1, ctx.Rng), c);
        factors = new FieldInputs(new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng), c);
        var sizes = ModelConfig.Ints(c, "cin", [32, 32, 32], minCount: 1);
        int m = factors.Count, h = m, pooled = 0;
        cin = new Tensor[sizes.Length];
        for (int k = 0; k < sizes.Length; k++)
        {
            cin[k] = Tensor.Parameter("cin." + k, h * m, sizes[k]);
            Init.XavierUniform(cin[k], ctx.Rng);
            h = sizes[k];
            pooled += h;
        }
        cinHead = new Linear(pooled, 1, ctx.Rng, bias: false);
        mlp = ZooMlp.Build(c, m * dim, ctx.Rng);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters()
    {
        yield return ("bias", bias);
        for (int k = 0; k < cin.Length; k++) yield return ("cin." + k, cin[k]);
    }
    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("linear", linear.Embeddings);
        yield return ("factors", factors.Embeddings);
        yield return ("cin_head", cinHead);
        yield return ("mlp", mlp);
    }

    public override ModelOutput Forward(Batch b)
    {
        var x0 = FactorizationMachine.Stack(factors, b);                // [B, m, D]
        int n = b.Count, m = x0.Shape[1], d = x0.Shape[2];
        // Feature maps are kept field-major, [H, B·D]: the Hadamard products of all (h, j) pairs are then
        // one repeat plus a multiply whose second operand is a trailing block (the fast broadcast path),
        // and the compression is one GEMM whose output is already the next layer's layout.
        var x0Maps = Ops.Reshape(Ops.Permute(x0, 1, 0, 2), m, n * d);  // [m, B·D]
        var xk = x0Maps;
        var pooled = new List<Tensor>(cin.Length);
        foreach (var w in cin)
        {
            int h = xk.Shape[0];
            var z = Ops.Mul(Ops.Repeat(Ops.Reshape(xk, h, 1, n * d), 1, m), x0Maps);      // [H, m, B·D]
            xk = Ops.MatMul(w, Ops.Reshape(z, h * m, n * d), transA: true);                 // [H_k, B·D]
            pooled.Add(Ops.Sum(Ops.Reshape(xk, w.Shape[1], n, d), 2));                      // [H_k, B]
        }
        var cinLogit = cinHead.Forward(Ops.Transpose(Ops.Concat(pooled, 0)));
        var deep = mlp.Forward(Ops.Reshape(x0, n, -1), factors.UserColumns);
        var logit = Ops.Add(LogisticRegression.FirstOrder(linear, bias, b), Ops.Reshape(Ops.Add(cinLogit, deep), n));
        return new(logit);
    }
}
