using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.FeatureInteraction;

/// <summary>
/// NFM, neural factorization machines (He &amp; Chua, SIGIR 2017): the bi-interaction pooling
/// ½[(Σ_f v_f)² − Σ_f v_f²] — FM's pairwise products kept as a D-vector instead of summed —
/// fed through an MLP, plus the first-order term: logit = b + Σ w(x_f) + MLP(BI(v)).
/// Config: embedding_dim (16), mlp ([256, 256, 256]), activation (relu), dropout (0),
/// batch_norm (true: the paper normalises the bi-interaction output and hidden layers), fields, sequence.
/// Deviation: batch norm is applied to the hidden layers only (the Mlp's norm), not to the
/// pooled vector itself; the first hidden layer's norm sees the same information one linear map later.
/// </summary>
public sealed class Nfm : CtrModel
{
    readonly FieldInputs linear, factors;
    readonly Tensor bias = Tensor.Parameter("bias", 1);
    readonly Mlp mlp;

    public Nfm(ModelContext ctx)
    {
        var c = ctx.Config;
        int dim = c.GetInt("embedding_dim", 16, min: 1);
        linear = new FieldInputs(new FeatureEmbeddings(ctx.Schema, 1, ctx.Rng), c);
        factors = new FieldInputs(new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng), c);
        mlp = ZooMlp.Build(c, dim, ctx.Rng, defaultBatchNorm: true);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters() { yield return ("bias", bias); }
    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("linear", linear.Embeddings);
        yield return ("factors", factors.Embeddings);
        yield return ("mlp", mlp);
    }

    public override ModelOutput Forward(Batch b)
    {
        var v = FactorizationMachine.Stack(factors, b);                 // [B, F, D]
        var sum = Ops.Sum(v, 1);
        var bi = Ops.MulScalar(Ops.Sub(Ops.Mul(sum, sum), Ops.Sum(Ops.Mul(v, v), 1)), 0.5f);   // [B, D]
        var deep = Ops.Reshape(mlp.Forward(bi), b.Count);
        return new(Ops.Add(LogisticRegression.FirstOrder(linear, bias, b), deep));
    }
}
