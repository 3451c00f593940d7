using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.BehaviorSequence;

/// <summary>
/// QIN (Guo et al., CIKM 2023, "Query-dominant User Interest Network for Large-Scale Search
/// Ranking"). Relevance Search Unit: from the whole history keep the top_k_query positions most
/// relevant to the query, then among those the top_k_target most relevant to the target item.
/// Fused Attention Unit: attention scores from the ID part (target item vs history items) and
/// from the attribute part (target side fields vs history side fields) are softmaxed separately
/// and mixed by a per-user gate; the mixture pools the surviving keys. A query attention pools
/// the query-relevant subsequence (the query-dominated interest). Both feed the MLP.
/// Deviations: the paper scores relevance with frozen pre-trained multimodal embeddings (cosine);
/// there are none here, so each stage ranks by the attention scores the model itself trains
/// (query attention for stage 1, ID attention for stage 2; TWIN-style consistency). The paper's
/// gate reads the user's engagement depth (e.g. watch completion), which these data lack: the gate
/// reads the user's mean history key. Data without queries (MovieLens): `query_field` is unset and
/// the query falls back to the target item, so stage 1 becomes a target-relevance pre-filter.
/// Config: embedding_dim (16), query_field (none), top_k_query (30), top_k_target (10),
/// attention_dim (16), mlp/activation/dropout/fields as DIN.
/// </summary>
public sealed class Qin : CtrModel
{
    readonly FeatureEmbeddings emb;
    readonly string[] queryFields;
    readonly int maxLen;
    readonly string? queryField;
    readonly Linear queryQ, queryK, idQ, idK, attrQ, attrK, gate;
    readonly SequenceHead head;
    readonly int topQuery, topTarget, dim, attDim;
    readonly bool hasSides;

    public Qin(ModelContext ctx)
    {
        var c = ctx.Config;
        dim = c.GetInt("embedding_dim", 16, min: 1);
        emb = new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng);
        queryFields = TargetQuery.Fields(ctx, "QIN");
        maxLen = ctx.Schema.Sequence!.MaxLen;
        queryField = c.Has("query_field") ? c.GetString("query_field") : null;
        if (queryField is not null && ctx.Schema.Fields.All(f => f.Name != queryField))
            throw new Data.Config.ConfigException($"{c.Where}: query_field '{queryField}' is not a field of data set '{ctx.Schema.Name}'");
        topQuery = c.GetInt("top_k_query", 30, min: 1);
        topTarget = c.GetInt("top_k_target", 10, min: 1);
        attDim = c.GetInt("attention_dim", 16, min: 1);
        int kd = emb.SequenceWidth();
        hasSides = kd > dim;
        queryQ = new Linear(dim, attDim, ctx.Rng, bias: false);
        queryK = new Linear(dim, attDim, ctx.Rng, bias: false);
        idQ = new Linear(dim, attDim, ctx.Rng, bias: false);
        idK = new Linear(dim, attDim, ctx.Rng, bias: false);
        attrQ = new Linear(Math.Max(kd - dim, 1), attDim, ctx.Rng, bias: false);
        attrK = new Linear(Math.Max(kd - dim, 1), attDim, ctx.Rng, bias: false);
        gate = new Linear(kd, 1, ctx.Rng);
        head = new SequenceHead(c, emb, 2 * kd, ctx.Rng);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("embeddings", emb);
        yield return ("query_q", queryQ);
        yield return ("query_k", queryK);
        yield return ("id_q", idQ);
        yield return ("id_k", idK);
        if (hasSides) { yield return ("attr_q", attrQ); yield return ("attr_k", attrK); yield return ("gate", gate); }
        yield return ("head", head);
    }

    /// <summary>Scaled dot products of one query row per sample with its rows: q [B, A], k [B, L, A] → [B, L].</summary>
    Tensor Scores(Tensor q, Tensor k) =>
        Ops.MulScalar(Ops.Reshape(Ops.MatMul(k, Ops.Reshape(q, q.Shape[0], attDim, 1)), k.Shape[0], k.Shape[1]), 1f / MathF.Sqrt(attDim));

    public override ModelOutput Forward(Batch b)
    {
        int n = b.Count, kd = emb.SequenceWidth();
        var hist = PaddedHistories.From(emb.PackedSequence(b), maxLen, minLen: topQuery);
        var keys = hist.PerSample(hist.Keys);                                               // [B, L, K]
        var target = TargetQuery.Embed(emb, b, queryFields);                                // [B, K]
        var targetItem = Ops.Slice(target, 1, 0, dim);
        var query = queryField is null ? targetItem : emb.Field(b, queryField);

        // RSU stage 1: the query-relevant subsequence, ranked by the query attention's own scores.
        var queryScores = Scores(queryQ.Forward(query), hist.PerSample(queryK.Forward(Ops.Slice(hist.Keys, 2, 0, dim))));
        var picked1 = PaddedHistories.TopKReal(queryScores, hist.SampleLengths(), topQuery);
        var (keys1, keep1) = PaddedHistories.Gather(keys, picked1, topQuery);              // [B, k1, K]
        var queryScores1 = Ops.Reshape(PaddedHistories.Gather(Ops.Reshape(queryScores, n, -1, 1), picked1, topQuery).Picked, n, topQuery);
        var queryInterest = Ops.Reshape(Ops.MatMul(Ops.Reshape(Ops.Softmax(queryScores1, keep1), n, 1, topQuery), keys1), n, kd);

        // RSU stage 2: within it, the target-relevant sub-subsequence by the ID attention.
        var idScores1 = Scores(idQ.Forward(targetItem), idK.Forward(Ops.Slice(keys1, 2, 0, dim)));
        var counts1 = new int[n];
        for (int r = 0; r < n; r++) counts1[r] = Math.Min(topQuery, hist.Lengths[hist.Group[r]]);
        var picked2 = PaddedHistories.TopKReal(idScores1, counts1, topTarget);
        var (keys2, keep2) = PaddedHistories.Gather(keys1, picked2, topTarget);            // [B, k2, K]
        var idScores = Ops.Reshape(PaddedHistories.Gather(Ops.Reshape(idScores1, n, -1, 1), picked2, topTarget).Picked, n, topTarget);

        // FAU: ID and attribute attention, softmaxed apart and mixed by the user's gate.
        var weights = Ops.Softmax(idScores, keep2);
        if (hasSides)
        {
            var attrScores = Scores(attrQ.Forward(Ops.Slice(target, 1, dim, kd - dim)), attrK.Forward(Ops.Slice(keys2, 2, dim, kd - dim)));
            var g = Ops.Sigmoid(gate.Forward(hist.PerSample(Ops.MaskedMean(hist.Keys, hist.Keep))));   // [B, 1]
            weights = Ops.Add(Ops.Mul(g, weights), Ops.Mul(Ops.AddScalar(Ops.Neg(g), 1f), Ops.Softmax(attrScores, keep2)));
        }
        var fused = Ops.Reshape(Ops.MatMul(Ops.Reshape(weights, n, 1, topTarget), keys2), n, kd);
        return new ModelOutput(head.Logits(b, fused, queryInterest));
    }
}
