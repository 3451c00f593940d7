using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.BehaviorSequence;

/// <summary>
/// MIRRN (Xu et al., KDD 2025, "Multi-granularity Interest Retrieval and Refinement Network").
/// Retrieval: queries at several granularities — the target item, the mean of the most recent w
/// behaviours for each w in `windows` (local interest), and the mean of the whole history (global
/// interest) — each pick the top_k history positions by cosine relevance. Refinement: each
/// retrieved subsequence gets a position encoding (recency: distance to the target's moment) and
/// passes a Fourier transformer layer — DFT along the subsequence, a learned complex filter per
/// frequency and channel, inverse DFT (real part), then a feed-forward block, each residual. Multi-head target attention reads each refined subsequence; the readouts of all
/// granularities feed the MLP.
/// Deviations and uncertainty: the paper retrieves with SimHash signatures (an approximation of
/// angular similarity, for speed at serving); here relevance is exact cosine over ≤ 50 positions.
/// Its "multi-head" Fourier transformer is read as per-head filters; a per-channel filter (used
/// here) contains that as a special case. Its target-aware position encoding is described only
/// at the level of "position relative to the target"; recency position embeddings are used. The DFT
/// is a pair of fixed k×k cosine/sine matrices (k is small), not an FFT. The refinement blocks
/// have no LayerNorm (x + f(x)): the history keys are the shared, tiny-initialised (std 1e-4)
/// item/genre embeddings, and any LayerNorm on them — post-norm or pre-norm — multiplied the
/// gradient reaching those tables through the history path by up to 1/√eps ≈ 300 — we think it drowned
/// the target-field path that learns item quality. The model then scored unseen users below LR
/// (ML-1M reduced run: test AUC 0.649 with the norms, 0.800 without; LR 0.763, DIN 0.815).
/// Config: embedding_dim (16), windows ([5, 20]), top_k (16), heads (2), ffn_dim (2·key width),
/// mlp/activation/dropout/fields as DIN.
/// </summary>
public sealed class Mirrn : CtrModel
{
    readonly FeatureEmbeddings emb;
    readonly string[] queryFields;
    readonly int[] windows;
    readonly int topK, width, maxLen;
    readonly Tensor position;             // [max_len + 1, K] recency position embedding
    readonly Tensor filterRe, filterIm;   // [K, k] complex filter, one per channel and frequency
    readonly Tensor cos, sin;             // [k, k] DFT matrices (constants)
    readonly Mlp ffn;
    readonly MultiHeadAttention attention;
    readonly SequenceHead head;

    int Granularities => windows.Length + 2;

    public Mirrn(ModelContext ctx)
    {
        var c = ctx.Config;
        emb = new FeatureEmbeddings(ctx.Schema, c.GetInt("embedding_dim", 16, min: 1), ctx.Rng);
        queryFields = TargetQuery.Fields(ctx, "MIRRN");
        windows = ModelConfig.Ints(c, "windows", [5, 20]);
        topK = c.GetInt("top_k", 16, min: 1);
        width = emb.SequenceWidth();
        maxLen = ctx.Schema.Sequence!.MaxLen;
        position = Tensor.Parameter("position", maxLen + 1, width);
        Init.Normal(position, ctx.Rng, 0.02f);
        filterRe = Tensor.Parameter("filter_re", width, topK);
        filterIm = Tensor.Parameter("filter_im", width, topK);
        Init.Normal(filterRe, ctx.Rng, 0.02f, mean: 1f);    // starts near the identity filter
        Init.Normal(filterIm, ctx.Rng, 0.02f);
        var cs = new float[topK * topK];
        var sn = new float[topK * topK];
        for (int f = 0; f < topK; f++)
            for (int j = 0; j < topK; j++)
            {
                double angle = 2 * Math.PI * f * j / topK;
                cs[f * topK + j] = (float)Math.Cos(angle);
                sn[f * topK + j] = (float)Math.Sin(angle);
            }
        cos = Tensor.FromArray(cs, topK, topK);
        sin = Tensor.FromArray(sn, topK, topK);
        ffn = new Mlp(width, [c.GetInt("ffn_dim", 2 * width, min: 1)], ctx.Rng, Activation.Relu, outputDim: width);
        attention = new MultiHeadAttention(width, c.GetInt("heads", 2, min: 1), ctx.Rng);
        head = new SequenceHead(c, emb, Granularities * width, ctx.Rng);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("embeddings", emb);
        yield return ("ffn", ffn);
        yield return ("attention", attention);
        yield return ("head", head);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters()
    {
        yield return ("position", position);
        yield return ("filter_re", filterRe);
        yield return ("filter_im", filterIm);
    }

    public override ModelOutput Forward(Batch b)
    {
        int n = b.Count, q = Granularities, k = topK, kd = width;
        var hist = PaddedHistories.From(emb.PackedSequence(b), maxLen, minLen: k);
        int len = hist.Len;
        var target = TargetQuery.Embed(emb, b, queryFields);                           // [B, K]

        // Queries per distinct history: the mean of the last w behaviours, and of all of them.
        var groupQueries = new List<Tensor>();
        foreach (int w in windows) groupQueries.Add(Ops.MaskedMean(hist.Keys, RecentMask(hist, w)));
        groupQueries.Add(Ops.MaskedMean(hist.Keys, hist.Keep));

        // Retrieval (selection only): top-k positions by cosine relevance for every (sample, granularity).
        var index = new int[n * q * k];
        var keep = Tensor.Temp([n * q, k], zero: true);
        var recency = new int[n * q * k];
        var relevance = new float[len];
        var rows = new int[len];
        for (int r = 0; r < n; r++)
        {
            int g = hist.Group[r], l = hist.Lengths[g];
            for (int qi = 0; qi < q; qi++)
            {
                var query = qi == 0 ? target.Data.AsSpan(r * kd, kd) : groupQueries[qi - 1].Data.AsSpan(g * kd, kd);
                int picked = Retrieve(query, hist.Keys.Data.AsSpan(g * len * kd, l * kd), l, relevance, rows);
                for (int j = 0; j < k; j++)
                {
                    int o = (r * q + qi) * k + j;
                    bool real = j < picked;
                    index[o] = real ? g * len + rows[j] : hist.Groups * len;     // the appended zero row
                    recency[o] = real ? Math.Min(l - 1 - rows[j], maxLen) : maxLen;
                    if (real) keep.Data[o] = 1;
                }
            }
        }
        var flat = Ops.Concat([Ops.Reshape(hist.Keys, hist.Groups * len, kd), Tensor.Zeros(1, kd)], 0);
        var keepCol = Ops.Reshape(keep, n * q, k, 1);
        var x = Ops.Reshape(Ops.IndexSelect(flat, index), n * q, k, kd);
        x = Ops.Mul(Ops.Add(x, Ops.Reshape(Ops.IndexSelect(position, recency), n * q, k, kd)), keepCol);

        // Refinement: Fourier mixing along the subsequence, then the feed-forward block; no
        // LayerNorm (see the note above). The DFT spreads real rows into padding rows; the final
        // mask zeroes them again.
        x = Ops.Add(x, FourierFilter(x));
        x = Ops.Mul(Ops.Add(x, ffn.Forward(x)), keepCol);

        // Target attention per granularity.
        var rowSample = new int[n * q];
        for (int i = 0; i < rowSample.Length; i++) rowSample[i] = i / q;
        var queries = Ops.Reshape(Ops.IndexSelect(target, rowSample), n * q, 1, kd);
        var read = attention.Forward(queries, x, keep);                                 // [B·Q, 1, K]
        return new ModelOutput(head.Logits(b, Ops.Reshape(read, n, q * kd)));
    }

    /// <summary>Re(IDFT(W ⊙ DFT(x))) along the k positions of x [R, k, K], computed on xᵀ [R, K, k] (the DFT matrices are symmetric).</summary>
    Tensor FourierFilter(Tensor x)
    {
        int r = x.Shape[0], k = topK, kd = width;
        var xt = Ops.Permute(x, 0, 2, 1);
        var re = Ops.MatMul(xt, cos);                      // Re X
        var im = Ops.Neg(Ops.MatMul(xt, sin));             // Im X
        var yRe = Ops.Sub(Ops.Mul(re, filterRe), Ops.Mul(im, filterIm));
        var yIm = Ops.Add(Ops.Mul(im, filterRe), Ops.Mul(re, filterIm));
        var y = Ops.MulScalar(Ops.Sub(Ops.MatMul(yRe, cos), Ops.MatMul(yIm, sin)), 1f / k);
        return Ops.Reshape(Ops.Permute(y, 0, 2, 1), r, k, kd);
    }

    /// <summary>[G, L]: 1 at the last w real positions of each history.</summary>
    static Tensor RecentMask(PaddedHistories h, int w)
    {
        var m = Tensor.Temp([h.Groups, h.Len], zero: true);
        for (int g = 0; g < h.Groups; g++)
            for (int l = Math.Max(0, h.Lengths[g] - w); l < h.Lengths[g]; l++) m.Data[g * h.Len + l] = 1;
        return m;
    }

    /// <summary>Fills <paramref name="rows"/> with up to k positions of keys [l, K] by descending cosine with the query; returns how many.</summary>
    int Retrieve(ReadOnlySpan<float> query, ReadOnlySpan<float> keys, int l, float[] relevance, int[] rows)
    {
        int kd = width;
        float qn = MathF.Sqrt(Dot(query, query)) + 1e-12f;
        int filled = 0;
        for (int i = 0; i < l; i++)
        {
            var key = keys.Slice(i * kd, kd);
            float v = Dot(query, key) / (qn * (MathF.Sqrt(Dot(key, key)) + 1e-12f));
            if (filled == topK && !(v > relevance[topK - 1])) continue;
            // Insertion into the running top-k, best first; ties keep the earlier position (as Ops.TopK).
            int p = filled < topK ? filled++ : topK - 1;
            while (p > 0 && v > relevance[p - 1]) { relevance[p] = relevance[p - 1]; rows[p] = rows[p - 1]; p--; }
            relevance[p] = v;
            rows[p] = i;
        }
        return filled;
    }

    static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => System.Numerics.Tensors.TensorPrimitives.Dot(a, b);
}
