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
/// identity activation and a bias per feature map. Internally the maps are kept as [B, D, H] so the
/// whole layer is one Hadamard broadcast plus one GEMM with no per-map loop.
/// </summary>
public sealed class XDeepFm : CtrModel
{
    readonly FieldInputs linear, factors;
    readonly Tensor bias = Tensor.Parameter("bias", 1);
    readonly Linear[] cin;
    readonly Linear cinHead;
    readonly Mlp mlp;

    public XDeepFm(ModelContext ctx)
    {
        var c = ctx.Config;
        int dim = c.GetInt("embedding_dim", 16);
        linear = new FieldInputs(new FeatureEmbeddings(ctx.Schema, 1, ctx.Rng), c);
        factors = new FieldInputs(new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng), c);
        var sizes = ModelConfig.Ints(c, "cin", [32, 32, 32]);
        int m = factors.Count, h = m, pooled = 0;
        cin = new Linear[sizes.Length];
        for (int k = 0; k < sizes.Length; k++)
        {
            cin[k] = new Linear(h * m, sizes[k], ctx.Rng);
            h = sizes[k];
            pooled += h;
        }
        cinHead = new Linear(pooled, 1, ctx.Rng, bias: false);
        mlp = ZooMlp.Build(c, m * dim, ctx.Rng);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters() { yield return ("bias", bias); }
    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("linear", linear.Embeddings);
        yield return ("factors", factors.Embeddings);
        for (int k = 0; k < cin.Length; k++) yield return ("cin." + k, cin[k]);
        yield return ("cin_head", cinHead);
        yield return ("mlp", mlp);
    }

    public override ModelOutput Forward(Batch b)
    {
        var x0 = FactorizationMachine.Stack(factors, b);                // [B, m, D]
        int n = b.Count, m = x0.Shape[1], d = x0.Shape[2];
        var x0t = Ops.Transpose(x0);                                    // [B, D, m]
        var x0Cols = Ops.Reshape(x0t, n, d, 1, m);
        var xk = x0t;                                                   // [B, D, H]
        var pooled = new List<Tensor>(cin.Length);
        foreach (var layer in cin)
        {
            int h = xk.Shape[2];
            var z = Ops.Mul(Ops.Reshape(xk, n, d, h, 1), x0Cols);       // [B, D, H, m]
            xk = layer.Forward(Ops.Reshape(z, n, d, h * m));             // [B, D, H_k]
            pooled.Add(Ops.Sum(xk, 1));                                  // [B, H_k]
        }
        var cinLogit = cinHead.Forward(Ops.Concat(pooled, 1));
        var deep = mlp.Forward(Ops.Reshape(x0, n, -1));
        var logit = Ops.Add(LogisticRegression.FirstOrder(linear, bias, b), Ops.Reshape(Ops.Add(cinLogit, deep), n));
        return new(logit);
    }
}
