using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.FeatureInteraction;

/// <summary>
/// PNN, product-based neural network (Qu et al., ICDM 2016): an MLP over the field embeddings
/// concatenated with a product layer. `product: inner` (IPNN) adds ⟨v_i, v_j⟩ for every field
/// pair; `product: outer` (OPNN) adds the outer product f_Σ f_Σᵀ of the summed embeddings, the
/// paper's superposition form of Σ_{i,j} v_i v_jᵀ, which costs O(D²) instead of O(F²D²).
/// Config: product (inner | outer), embedding_dim (16), mlp ([256, 256, 256]), activation (relu),
/// dropout (0), batch_norm (false), fields, sequence.
/// Deviation: the paper's first hidden layer l_z + l_p + b is one Linear over [z; p], which is the
/// same function; the product features are not normalised (the paper adds no normalisation either).
/// </summary>
public sealed class Pnn : CtrModel
{
    readonly FieldInputs factors;
    readonly bool outer;
    readonly FieldPairs pairs;
    readonly Mlp mlp;

    public Pnn(ModelContext ctx)
    {
        var c = ctx.Config;
        int dim = c.GetInt("embedding_dim", 16, min: 1);
        outer = c.GetChoice("product", "inner", "inner", "outer") == "outer";
        factors = new FieldInputs(new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng), c);
        pairs = new FieldPairs(factors.Count);
        int productWidth = outer ? dim * dim : pairs.Count;
        mlp = ZooMlp.Build(c, factors.Count * dim + productWidth, ctx.Rng);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("factors", factors.Embeddings);
        yield return ("mlp", mlp);
    }

    public override ModelOutput Forward(Batch b)
    {
        var v = FactorizationMachine.Stack(factors, b);                 // [B, F, D]
        int d = factors.Embeddings.Dim;
        Tensor product;
        if (outer)
        {
            var s = Ops.Sum(v, 1);                                      // [B, D]
            product = Ops.Reshape(Ops.MatMul(Ops.Reshape(s, b.Count, d, 1), Ops.Reshape(s, b.Count, 1, d)), b.Count, d * d);
        }
        else product = pairs.InnerProducts(v, v);                       // [B, P]
        var input = Ops.Concat([Ops.Reshape(v, b.Count, -1), product], 1);
        return new(Ops.Reshape(mlp.Forward(input), b.Count));
    }
}
