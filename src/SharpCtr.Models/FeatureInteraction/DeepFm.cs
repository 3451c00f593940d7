using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.FeatureInteraction;

/// <summary>
/// DeepFM (Guo et al. 2017): an FM and an MLP over the same field embeddings, logits summed.
/// Config: embedding_dim (16), mlp ([256, 256, 256]), activation (relu), dropout (0),
/// batch_norm (false), fields, sequence (mean | none).
/// </summary>
public sealed class DeepFm : CtrModel
{
    readonly FieldInputs linear, factors;
    readonly Tensor bias = Tensor.Parameter("bias", 1);
    readonly Mlp mlp;

    public DeepFm(ModelContext ctx)
    {
        var c = ctx.Config;
        int dim = c.GetInt("embedding_dim", 16, min: 1);
        linear = new FieldInputs(new FeatureEmbeddings(ctx.Schema, 1, ctx.Rng), c);
        factors = new FieldInputs(new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng), c);
        mlp = new Mlp(factors.Count * dim, ModelConfig.Ints(c, "mlp", [256, 256, 256]), ctx.Rng,
            Activations.Parse(c.GetString("activation", "relu")), (float)c.GetDouble("dropout", 0, min: 0, below: 1),
            c.GetBool("batch_norm", false) ? MlpNorm.Batch : MlpNorm.None, outputDim: 1);
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
        var v = FactorizationMachine.Stack(factors, b);                        // [B, F, D]
        var fm = Ops.Add(LogisticRegression.FirstOrder(linear, bias, b), FactorizationMachine.PairwiseInteractions(v));
        var deep = mlp.Forward(Ops.Reshape(v, b.Count, -1), factors.UserColumns);      // [B, 1]
        return new(Ops.Add(fm, Ops.Reshape(deep, b.Count)));
    }
}
