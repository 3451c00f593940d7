using SharpCtr.Data.Batching;
using SharpCtr.Data.Config;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.Diffusion;

/// <summary>
/// An unconditioned diffusion purifier in the spirit of DiffRec (Wang et al. 2023): DiffRec
/// noises a user's whole interaction vector and denoises it with an MLP that sees only the noisy
/// vector and the step. Here the interaction vector is the user's history mean-pooled in the
/// item-embedding space (as L-DiffRec works in a compressed space): no category gate, no
/// query/user/item/context/scene condition. The same schedule, denoiser, losses and
/// deterministic 20-step inference as CDP (<see cref="DiffusionPurifier"/>), and the same
/// downstream MLP over [h; field embeddings]. An empty history pools to zeros.
/// Config: embedding_dim (16), mlp ([256, 128]), activation (relu), dropout (0), fields,
/// and the purifier's keys (x0_norm and x0_gradient among them).
/// </summary>
public sealed class DiffRecStyle : CtrModel
{
    readonly FeatureEmbeddings emb;
    readonly List<string> fields;
    readonly string sequenceName, historySource;
    public readonly DiffusionPurifier Purifier;
    readonly Mlp mlp;
    readonly int[] userColumns;   // of the MLP's input, folded once per request when scoring

    public DiffRecStyle(ModelContext ctx)
    {
        var c = ctx.Config;
        int dim = c.GetInt("embedding_dim", 16, min: 1);
        emb = new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng);
        fields = ModelConfig.Fields(c, emb);
        var seq = ctx.Schema.Sequence ?? throw new ConfigException($"{c.Where}: the DiffRec-style purifier needs a data set with a behaviour sequence");
        sequenceName = seq.Name;
        historySource = seq.Source;
        Purifier = new DiffusionPurifier(c, dim, conditionDim: 0, ctx.Rng);
        mlp = new Mlp(dim + fields.Count * dim, ModelConfig.Ints(c, "mlp", [256, 128]), ctx.Rng,
            Activations.Parse(c.GetString("activation", "relu")), (float)c.GetDouble("dropout", 0, min: 0, below: 1), outputDim: 1);
        // h is purified from the history alone (no candidate in its condition): user-level, like the user's fields
        userColumns = [.. Enumerable.Range(0, dim), .. emb.UserColumns(fields, offset: dim)];
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("embeddings", emb);
        yield return ("purifier", Purifier);
        yield return ("mlp", mlp);
    }

    public override ModelOutput Forward(Batch b)
    {
        var sv = b.Sequence(sequenceName);
        var x0 = Purifier.Observed(Ops.EmbeddingBag(emb.Table(historySource).Weight, sv.Items, b.Count, sv.MaxLen, sv.Lengths, mean: true));
        var (h, noiseLoss) = Purifier.Purify(x0, condition: null);
        var parts = new List<Tensor>(fields.Count + 1) { h };
        foreach (var f in fields) parts.Add(emb.Field(b, f));
        var output = new ModelOutput(Ops.Reshape(mlp.Forward(Ops.Concat(parts, 1), userColumns), b.Count));
        if (noiseLoss is not null) output.AuxLosses.Add(("noise", noiseLoss));
        return output;
    }
}
