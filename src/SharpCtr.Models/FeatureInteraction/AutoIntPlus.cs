using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.FeatureInteraction;

/// <summary>
/// AutoInt+ (Song et al., CIKM 2019): "interacting layers" of multi-head self-attention over the
/// fields — each field's new vector is ReLU(concat_h Σ_j softmax_j(⟨W_Q e_i, W_K e_j⟩) W_V e_j
/// + W_Res e_i) — whose flattened output feeds a linear logit, plus an MLP over the flattened
/// embeddings (the "+"): logit = w·flatten(attn) + MLP(flatten(e)).
/// Config: attention_layers (3), heads (2), attention_dim (32, per head), use_scale (false, as the
/// paper), embedding_dim (16), mlp ([256, 256, 256]), activation, dropout, batch_norm, fields, sequence.
/// Deviation: none in the function; heads are batched as one [B, H, F, F] score tensor.
/// </summary>
public sealed class AutoIntPlus : CtrModel
{
    readonly FieldInputs factors;
    readonly InteractingLayer[] layers;
    readonly Linear attentionHead;
    readonly Mlp mlp;

    public AutoIntPlus(ModelContext ctx)
    {
        var c = ctx.Config;
        int dim = c.GetInt("embedding_dim", 16, min: 1);
        int count = c.GetInt("attention_layers", 3, min: 1), heads = c.GetInt("heads", 2, min: 1), headDim = c.GetInt("attention_dim", 32, min: 1);
        bool scale = c.GetBool("use_scale", false);
        factors = new FieldInputs(new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng), c);
        layers = new InteractingLayer[count];
        int d = dim;
        for (int i = 0; i < count; i++, d = heads * headDim) layers[i] = new InteractingLayer(d, heads, headDim, scale, ctx.Rng);
        attentionHead = new Linear(factors.Count * d, 1, ctx.Rng);
        mlp = ZooMlp.Build(c, factors.Count * dim, ctx.Rng);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("factors", factors.Embeddings);
        for (int i = 0; i < layers.Length; i++) yield return ("attention." + i, layers[i]);
        yield return ("attention_head", attentionHead);
        yield return ("mlp", mlp);
    }

    public override ModelOutput Forward(Batch b)
    {
        var e = FactorizationMachine.Stack(factors, b);                 // [B, F, D]
        var x = e;
        foreach (var layer in layers) x = layer.Forward(x);
        var attn = attentionHead.Forward(Ops.Reshape(x, b.Count, -1));
        var deep = mlp.Forward(Ops.Reshape(e, b.Count, -1), factors.UserColumns);
        return new(Ops.Reshape(Ops.Add(attn, deep), b.Count));
    }

    /// <summary>One interacting layer: [B, F, In] → [B, F, H·d'].</summary>
    sealed class InteractingLayer(int inDim, int heads, int headDim, bool scale, Rng rng) : Module
    {
        readonly Linear q = new(inDim, heads * headDim, rng, bias: false), k = new(inDim, heads * headDim, rng, bias: false),
            v = new(inDim, heads * headDim, rng, bias: false), residual = new(inDim, heads * headDim, rng, bias: false);

        protected override IEnumerable<(string, Module)> Children()
        {
            yield return ("q", q);
            yield return ("k", k);
            yield return ("v", v);
            yield return ("residual", residual);
        }

        public Tensor Forward(Tensor x)
        {
            int n = x.Shape[0], f = x.Shape[1];
            var scores = Ops.MatMul(Heads(q.Forward(x), n, f), Heads(k.Forward(x), n, f), transB: true);   // [B, H, F, F]
            if (scale) scores = Ops.MulScalar(scores, 1f / MathF.Sqrt(headDim));
            var ctx = Ops.MatMul(Ops.Softmax(scores), Heads(v.Forward(x), n, f));                          // [B, H, F, d']
            var merged = Ops.Reshape(Ops.Permute(ctx, 0, 2, 1, 3), n, f, heads * headDim);
            return Ops.Relu(Ops.Add(merged, residual.Forward(x)));
        }

        Tensor Heads(Tensor t, int n, int f) => Ops.Permute(Ops.Reshape(t, n, f, heads, headDim), 0, 2, 1, 3);
    }
}
