using SharpCtr.Data.Batching;
using SharpCtr.Tensors;

namespace SharpCtr.Models.FeatureInteraction;

/// <summary>
/// Factorization machine (Rendle 2010): first-order weights plus all pairwise interactions
/// ⟨v_i, v_j⟩ of field embeddings, computed in O(F·D) as ½ Σ_d [(Σ_f v_fd)² − Σ_f v_fd²].
/// </summary>
public sealed class FactorizationMachine : CtrModel
{
    readonly FieldInputs linear, factors;
    readonly Tensor bias = Tensor.Parameter("bias", 1);

    public FactorizationMachine(ModelContext ctx)
    {
        int dim = ctx.Config.GetInt("embedding_dim", 16, min: 1);
        linear = new FieldInputs(new FeatureEmbeddings(ctx.Schema, 1, ctx.Rng), ctx.Config);
        factors = new FieldInputs(new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng), ctx.Config);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters() { yield return ("bias", bias); }
    protected override IEnumerable<(string, Tensors.Nn.Module)> Children()
    {
        yield return ("linear", linear.Embeddings);
        yield return ("factors", factors.Embeddings);
    }

    public override ModelOutput Forward(Batch b)
    {
        var stacked = Stack(factors, b);
        return new(Ops.Add(LogisticRegression.FirstOrder(linear, bias, b), PairwiseInteractions(stacked)));
    }

    /// <summary>Field embeddings as [B, F, D].</summary>
    internal static Tensor Stack(FieldInputs inputs, Batch b) =>
        Ops.Reshape(Ops.Concat(inputs.Embed(b), 1), b.Count, inputs.Count, inputs.Embeddings.Dim);

    /// <summary>Σ_{i&lt;j} ⟨v_i, v_j⟩ for v = [B, F, D], as [B] (one fused op each way).</summary>
    internal static Tensor PairwiseInteractions(Tensor v) => Ops.FactorizationPairs(v);
}
