using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.FeatureInteraction;

/// <summary>
/// FwFM, field-weighted factorization machines (Pan et al., WWW 2018): an FM whose every field
/// pair has its own learned strength, logit = b + Σ w(x_f) + Σ_{i&lt;j} r_{ij} ⟨v_i, v_j⟩.
/// Config: embedding_dim (16), fields, sequence.
/// Deviations: the linear term is the paper's plain per-feature weight (its "LW" variant; FuxiCTR
/// defaults to field-wise linear vectors), so FwFM differs from our FM only in r. r starts at 1,
/// i.e. training starts from the FM it generalises, rather than from a random r.
/// </summary>
public sealed class FwFm : CtrModel
{
    readonly FieldInputs linear, factors;
    readonly FieldPairs pairs;
    readonly Tensor bias = Tensor.Parameter("bias", 1);
    /// <summary>[P, 1]: r_ij for each field pair i &lt; j.</summary>
    readonly Tensor pairWeights;

    public FwFm(ModelContext ctx)
    {
        int dim = ctx.Config.GetInt("embedding_dim", 16, min: 1);
        linear = new FieldInputs(new FeatureEmbeddings(ctx.Schema, 1, ctx.Rng), ctx.Config);
        factors = new FieldInputs(new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng), ctx.Config);
        pairs = new FieldPairs(factors.Count);
        pairWeights = Tensor.Parameter("pair_weights", pairs.Count, 1);
        Init.Constant(pairWeights, 1f);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters()
    {
        yield return ("bias", bias);
        yield return ("pair_weights", pairWeights);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("linear", linear.Embeddings);
        yield return ("factors", factors.Embeddings);
    }

    public override ModelOutput Forward(Batch b)
    {
        var v = FactorizationMachine.Stack(factors, b);                         // [B, F, D]
        var weighted = Ops.MatMul(pairs.InnerProducts(v, v), pairWeights);      // [B, 1]
        return new(Ops.Add(LogisticRegression.FirstOrder(linear, bias, b), Ops.Reshape(weighted, b.Count)));
    }
}
