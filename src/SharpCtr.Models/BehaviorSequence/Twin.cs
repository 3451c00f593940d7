using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.BehaviorSequence;

/// <summary>
/// TWIN (Chang et al., KDD 2023): two-stage interest modelling with one relevance metric. The
/// multi-head target attention of the ESU, score_h(t, k) = (e_t W_q^h)·(k W_k^h)/√d_h, is also
/// the GSU: its head-mean scores every history position, the top-k positions by that score are
/// kept, and the ESU attends over them with per-head softmax of the same scores (no separate,
/// inconsistent retrieval metric), pooling k W_v^h; heads are concatenated and projected.
/// Deviations: the paper splits behaviour features into inherent ones (pre-computed key
/// projections cached offline) and user–item cross features (a cheap linear bias); MovieLens has
/// no cross features, so the score is the inherent part only, computed exactly rather than from
/// a cache. Key/value projections run once per distinct history in the batch.
/// Config: embedding_dim (16), heads (4), attention_dim (history key width), top_k (20),
/// mlp/activation/dropout/fields as DIN.
/// </summary>
public sealed class Twin : CtrModel
{
    readonly FeatureEmbeddings emb;
    readonly string[] queryFields;
    readonly int maxLen;
    readonly Linear wq, wk, wv, wo;
    readonly SequenceHead head;
    readonly int heads, headDim, topK;

    public Twin(ModelContext ctx)
    {
        var c = ctx.Config;
        emb = new FeatureEmbeddings(ctx.Schema, c.GetInt("embedding_dim", 16, min: 1), ctx.Rng);
        queryFields = TargetQuery.Fields(ctx, "TWIN");
        maxLen = ctx.Schema.Sequence!.MaxLen;
        int kd = emb.SequenceWidth();
        heads = c.GetInt("heads", 4, min: 1);
        int att = c.GetInt("attention_dim", kd, min: 1);
        if (att % heads != 0) throw new Data.Config.ConfigException($"{c.Where}: attention_dim {att} is not divisible by {heads} heads");
        headDim = att / heads;
        topK = c.GetInt("top_k", 20, min: 1);
        wq = new Linear(kd, att, ctx.Rng, bias: false);
        wk = new Linear(kd, att, ctx.Rng, bias: false);
        wv = new Linear(kd, att, ctx.Rng, bias: false);
        wo = new Linear(att, kd, ctx.Rng);
        head = new SequenceHead(c, emb, kd, ctx.Rng);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("embeddings", emb);
        yield return ("w_q", wq);
        yield return ("w_k", wk);
        yield return ("w_v", wv);
        yield return ("w_o", wo);
        yield return ("head", head);
    }

    public override ModelOutput Forward(Batch b)
    {
        int n = b.Count, h = heads, dh = headDim;
        var hist = PaddedHistories.From(emb.PackedSequence(b), maxLen, minLen: topK);
        int len = hist.Len;
        var target = TargetQuery.Embed(emb, b, queryFields);
        var q = Ops.Reshape(wq.Forward(target), n * h, 1, dh);                                // [B·H, 1, dh]
        var k = PerHead(hist.PerSample(wk.Forward(hist.Keys)), n, len);                       // [B·H, L, dh]
        var v = hist.PerSample(wv.Forward(hist.Keys));                                        // [B, L, H·dh]
        var scores = Ops.MulScalar(Ops.MatMul(q, k, transB: true), 1f / MathF.Sqrt(dh));     // [B·H, 1, L]

        // GSU: the head-mean of the very scores the ESU uses ranks the whole history.
        var byHead = Ops.Reshape(scores, n, h, len);
        var relevance = Ops.Mean(byHead, 1);                                                  // [B, L] (selection only)
        var picked = PaddedHistories.TopKReal(relevance, hist.SampleLengths(), topK);

        // ESU: attention over the picked positions, per head, with those same scores.
        var (pickedScores, keep) = PaddedHistories.Gather(Ops.Permute(byHead, 0, 2, 1), picked, topK);   // [B, k, H]
        var pickedValues = PaddedHistories.Gather(v, picked, topK).Picked;                        // [B, k, H·dh]
        var weights = Ops.Softmax(Ops.Permute(pickedScores, 0, 2, 1), Ops.Reshape(keep, n, 1, topK));   // [B, H, k]
        var values = Ops.Reshape(Ops.Permute(Ops.Reshape(pickedValues, n, topK, h, dh), 0, 2, 1, 3), n * h, topK, dh);
        var pooled = Ops.Reshape(Ops.MatMul(Ops.Reshape(weights, n * h, 1, topK), values), n, h * dh);
        return new ModelOutput(head.Logits(b, wo.Forward(pooled)));
    }

    /// <summary>[B, L, H·dh] → [B·H, L, dh].</summary>
    Tensor PerHead(Tensor x, int n, int len) =>
        Ops.Reshape(Ops.Permute(Ops.Reshape(x, n, len, heads, headDim), 0, 2, 1, 3), n * heads, len, headDim);
}
