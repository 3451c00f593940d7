using SharpCtr.Data.Batching;
using SharpCtr.Tensors;

namespace SharpCtr.Models.FeatureInteraction;

/// <summary>
/// Logistic regression: logit = b + Σ_f w_f(x_f), one learned weight per feature value (a
/// 1-wide embedding), multi-valued fields and the pooled history averaged. The RelaImpr base.
/// </summary>
public sealed class LogisticRegression : CtrModel
{
    readonly FieldInputs inputs;
    readonly Tensor bias = Tensor.Parameter("bias", 1);

    public LogisticRegression(ModelContext ctx)
    {
        inputs = new FieldInputs(new FeatureEmbeddings(ctx.Schema, 1, ctx.Rng, initStd: 1e-4f), ctx.Config);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters() { yield return ("bias", bias); }
    protected override IEnumerable<(string, Tensors.Nn.Module)> Children() { yield return ("weights", inputs.Embeddings); }

    public override ModelOutput Forward(Batch b) => new(FirstOrder(inputs, bias, b));

    /// <summary>b + Σ_f w_f as [B]; shared with FM and DeepFM.</summary>
    internal static Tensor FirstOrder(FieldInputs inputs, Tensor bias, Batch b)
    {
        var w = Ops.Concat(inputs.Embed(b), 1);                 // [B, F]
        return Ops.Add(Ops.Sum(w, 1), bias);                     // [B]
    }
}
