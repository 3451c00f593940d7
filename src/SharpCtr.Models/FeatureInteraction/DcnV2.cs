using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.FeatureInteraction;

/// <summary>
/// DCN-V2 (Wang et al., WWW 2021): a cross network over the flattened field embeddings x₀,
/// x_{l+1} = x₀ ⊙ (W_l x_l + b_l) + x_l, each layer raising the interaction order by one, with
/// an MLP either on top of it (`structure: stacked`) or beside it, both outputs concatenated into
/// the logit layer (`structure: parallel`); `crossnet_only` keeps the cross network alone.
/// `low_rank: r` (> 0) switches to the paper's DCN-Mix layer: a softmax-gated mixture of K experts
/// x₀ ⊙ (U_k tanh(C_k tanh(V_kᵀ x_l)) + b), with the K experts batched into single GEMMs.
/// Config: structure (parallel), cross_layers (3), low_rank (0 = full-rank W), experts (4),
/// embedding_dim (16), mlp ([256, 256, 256]), activation, dropout, batch_norm, fields, sequence.
/// </summary>
public sealed class DcnV2 : CtrModel
{
    readonly FieldInputs factors;
    readonly string structure;
    readonly CrossLayer[] cross;
    readonly Mlp? mlp;
    readonly Linear? head;

    public DcnV2(ModelContext ctx)
    {
        var c = ctx.Config;
        int dim = c.GetInt("embedding_dim", 16, min: 1);
        structure = c.GetChoice("structure", "parallel", "parallel", "stacked", "crossnet_only");
        int layers = c.GetInt("cross_layers", 3, min: 1), rank = c.GetInt("low_rank", 0, min: 0), experts = c.GetInt("experts", 4, min: 1);
        factors = new FieldInputs(new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng), c);
        int width = factors.Count * dim;
        cross = new CrossLayer[layers];
        for (int i = 0; i < layers; i++) cross[i] = new CrossLayer(width, rank, experts, ctx.Rng);
        switch (structure)
        {
            case "stacked": mlp = ZooMlp.Build(c, width, ctx.Rng); break;
            case "parallel":
                mlp = ZooMlp.Build(c, width, ctx.Rng, outputDim: 0);
                head = new Linear(width + mlp.OutputDim, 1, ctx.Rng);
                break;
            default: head = new Linear(width, 1, ctx.Rng); break;
        }
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("factors", factors.Embeddings);
        for (int i = 0; i < cross.Length; i++) yield return ("cross." + i, cross[i]);
        if (mlp is not null) yield return ("mlp", mlp);
        if (head is not null) yield return ("head", head);
    }

    public override ModelOutput Forward(Batch b)
    {
        var x0 = Ops.Concat(factors.Embed(b), 1);                       // [B, F·D]
        var x = x0;
        foreach (var layer in cross) x = layer.Forward(x0, x);
        var logit = structure switch
        {
            "stacked" => mlp!.Forward(x),
            "parallel" => head!.Forward(Ops.Concat([x, mlp!.Forward(x0, factors.UserColumns)], 1)),
            _ => head!.Forward(x),
        };
        return new(Ops.Reshape(logit, b.Count));
    }

    /// <summary>One cross layer, full-rank (rank 0) or a mixture of low-rank experts.</summary>
    sealed class CrossLayer : Module
    {
        readonly int width, rank, experts;
        readonly Linear? full;
        readonly Tensor? v, c, u, bias;        // V [W, K·r], C [K, r, r], U [K, r, W], b [W]
        readonly Linear? gate;

        public CrossLayer(int width, int rank, int experts, Rng rng)
        {
            this.width = width;
            this.rank = rank;
            this.experts = experts;
            if (rank <= 0) { full = new Linear(width, width, rng); return; }
            v = Tensor.Parameter("v", width, experts * rank);
            c = Tensor.Parameter("c", experts, rank, rank);
            u = Tensor.Parameter("u", experts, rank, width);
            bias = Tensor.Parameter("bias", width);
            Init.XavierUniform(v, rng);
            foreach (var w in new[] { c, u })
            {
                float a = MathF.Sqrt(6f / (w.Shape[1] + w.Shape[2]));
                Init.Uniform(w, rng, -a, a);
            }
            gate = new Linear(width, experts, rng, bias: false);
        }

        protected override IEnumerable<(string, Tensor)> LocalParameters()
        {
            if (v is null) yield break;
            yield return ("v", v);
            yield return ("c", c!);
            yield return ("u", u!);
            yield return ("bias", bias!);
        }

        protected override IEnumerable<(string, Module)> Children()
        {
            if (full is not null) yield return ("w", full);
            if (gate is not null) yield return ("gate", gate);
        }

        public Tensor Forward(Tensor x0, Tensor x)
        {
            if (full is not null) return Ops.Add(Ops.Mul(x0, full.Forward(x)), x);
            int n = x.Shape[0];
            var t = Ops.Tanh(Ops.MatMul(x, v!));                                            // [B, K·r]
            t = Ops.Permute(Ops.Reshape(t, n, experts, rank), 1, 0, 2);                      // [K, B, r]
            t = Ops.Tanh(Ops.MatMul(t, c!));
            // Expert-major [K, B, W] lets x₀ [B, W] and b [W] broadcast as trailing blocks (the fast path).
            var expertOut = Ops.Mul(Ops.Add(Ops.MatMul(t, u!), bias!), x0);                  // [K, B, W]
            expertOut = Ops.Permute(expertOut, 1, 0, 2);                                      // [B, K, W]
            var g = Ops.Reshape(Ops.Softmax(gate!.Forward(x)), n, 1, experts);              // [B, 1, K]
            return Ops.Add(Ops.Reshape(Ops.MatMul(g, expertOut), n, width), x);
        }
    }
}
