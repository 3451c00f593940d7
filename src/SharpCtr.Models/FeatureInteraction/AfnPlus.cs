using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.FeatureInteraction;

/// <summary>
/// AFN+ (Cheng et al., AAAI 2020): the adaptive factorization network learns interaction orders.
/// A logarithmic transformation layer turns each of L neurons into y_l = exp(Σ_f w_{lf} ln|e_f|)
/// = Π_f |e_f|^{w_{lf}} (per embedding dimension), a product of fields with learned, arbitrary
/// real exponents; an MLP reads the L·D outputs. The "+" ensembles it with an MLP over separate
/// embeddings: logit = w₁·AFN + w₂·DNN + b.
/// Config: logarithmic_neurons (128), afn_mlp ([256, 256, 256]), embedding_dim (16), mlp
/// ([256, 256, 256], the ensemble DNN), activation, dropout, batch_norm, fields, sequence.
/// Deviations: 128 neurons instead of FuxiCTR's larger defaults (≥ 400) to keep the AFN MLP's
/// input (L·D) affordable on CPU; as in the paper, batch norm follows the log and the exp
/// (normalising per field and per neuron) and |e| is clamped at 1e-7 before the log.
/// </summary>
public sealed class AfnPlus : CtrModel
{
    readonly FieldInputs afnInputs, dnnInputs;
    readonly BatchNorm logNorm, expNorm;
    readonly Linear logarithmic;
    readonly Mlp afnMlp, dnn;
    readonly Linear ensemble;

    public AfnPlus(ModelContext ctx)
    {
        var c = ctx.Config;
        int dim = c.GetInt("embedding_dim", 16, min: 1), neurons = c.GetInt("logarithmic_neurons", 128, min: 1);
        afnInputs = new FieldInputs(new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng), c);
        dnnInputs = new FieldInputs(new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng), c);
        int fields = afnInputs.Count;
        logNorm = new BatchNorm(fields);
        logarithmic = new Linear(fields, neurons, ctx.Rng, bias: false);
        expNorm = new BatchNorm(neurons);
        afnMlp = ZooMlp.Build(c, neurons * dim, ctx.Rng, key: "afn_mlp");
        dnn = ZooMlp.Build(c, fields * dim, ctx.Rng);
        ensemble = new Linear(2, 1, ctx.Rng);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("afn_embeddings", afnInputs.Embeddings);
        yield return ("dnn_embeddings", dnnInputs.Embeddings);
        yield return ("log_norm", logNorm);
        yield return ("logarithmic", logarithmic);
        yield return ("exp_norm", expNorm);
        yield return ("afn_mlp", afnMlp);
        yield return ("dnn", dnn);
        yield return ("ensemble", ensemble);
    }

    public override ModelOutput Forward(Batch b)
    {
        var e = FactorizationMachine.Stack(afnInputs, b);                                   // [B, F, D]
        var logE = Ops.Log(Ops.Clamp(Ops.Abs(e), 1e-7f, float.MaxValue));
        var perDim = logNorm.Forward(Ops.Transpose(logE));                                 // [B, D, F]
        var products = expNorm.Forward(Ops.Exp(logarithmic.Forward(perDim)));              // [B, D, L]
        var afn = afnMlp.Forward(Ops.Reshape(products, b.Count, -1));                      // [B, 1]
        var deep = dnn.Forward(Ops.Concat(dnnInputs.Embed(b), 1), dnnInputs.UserColumns);                       // [B, 1]
        return new(Ops.Reshape(ensemble.Forward(Ops.Concat([afn, deep], 1)), b.Count));
    }
}
