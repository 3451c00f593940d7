using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.BehaviorSequence;

/// <summary>
/// HSTU (Zhai et al., ICML 2024, "Actions Speak Louder than Words"): a stack of hierarchical
/// sequential transduction units over the history with the target item appended last. Each unit:
/// U, V, Q, K = split(SiLU(f1(LayerNorm(X)))); A = SiLU(Q Kᵀ + rab) ⊙ causal mask / n (pointwise
/// attention, no softmax, normalised by the sequence length n); X ← X + f2(LayerNorm(A V) ⊙ U).
/// rab is a learned relative-position bias per head, indexed by the distance i − j. The target's
/// final state feeds the MLP with the field embeddings.
/// Because attention is causal and the target is last, history positions never see the target:
/// the history rows of every layer are computed once per distinct history (shared by a request's
/// candidates) and only the target row is computed per sample — exactly the appended-target
/// computation, without repeating it per candidate.
/// Deviations: no timestamps reach the model, so rab has its position part only (the paper also
/// buckets time gaps); actions are not interleaved with items (the history holds positives only).
/// Config: embedding_dim (16), layers (2), heads (2), attention_dim (history key width),
/// mlp/activation/dropout/fields as DIN.
/// </summary>
public sealed class Hstu : CtrModel
{
    readonly FeatureEmbeddings emb;
    readonly string[] queryFields;
    readonly int maxLen;
    readonly List<Unit> units = new();
    readonly SequenceHead head;

    public Hstu(ModelContext ctx)
    {
        var c = ctx.Config;
        emb = new FeatureEmbeddings(ctx.Schema, c.GetInt("embedding_dim", 16, min: 1), ctx.Rng);
        queryFields = TargetQuery.Fields(ctx, "HSTU");
        maxLen = ctx.Schema.Sequence!.MaxLen;
        int d = emb.SequenceWidth();
        int heads = c.GetInt("heads", 2, min: 1), att = c.GetInt("attention_dim", d, min: 1);
        if (att % heads != 0) throw new Data.Config.ConfigException($"{c.Where}: attention_dim {att} is not divisible by {heads} heads");
        int maxDistance = ctx.Schema.Sequence!.MaxLen + 1;
        for (int i = c.GetInt("layers", 2, min: 1); i > 0; i--) units.Add(new Unit(d, heads, att / heads, maxDistance, ctx.Rng));
        head = new SequenceHead(c, emb, d, ctx.Rng);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("embeddings", emb);
        for (int i = 0; i < units.Count; i++) yield return ($"unit{i}", units[i]);
        yield return ("head", head);
    }

    public override ModelOutput Forward(Batch b)
    {
        var hist = PaddedHistories.From(emb.PackedSequence(b), maxLen);
        var plan = new Plan(hist, units[0].MaxDistance);
        var x = hist.Keys;
        var t = TargetQuery.Embed(emb, b, queryFields);
        for (int i = 0; i < units.Count; i++) (x, t) = units[i].Forward(x, t, hist, plan, updateHistory: i + 1 < units.Count);
        return new ModelOutput(head.Logits(b, t));
    }

    /// <summary>Per-batch index and mask arrays shared by every unit.</summary>
    sealed class Plan
    {
        public readonly int[] HistDistance, TargetDistance;   // rab rows: [L·L] and [B·(L+1)]
        public readonly Tensor HistWeight, TargetWeight;       // causal keep / n: [G, 1, L, L] and [B, 1, L+1]

        public Plan(PaddedHistories h, int maxDistance)
        {
            int len = h.Len, g = h.Groups, n = h.Group.Length;
            HistDistance = new int[len * len];
            for (int i = 0; i < len; i++)
                for (int j = 0; j < len; j++) HistDistance[i * len + j] = Math.Min(Math.Max(i - j, 0), maxDistance);
            HistWeight = Tensor.Temp([g, 1, len, len], zero: true);
            for (int gi = 0; gi < g; gi++)
            {
                float w = 1f / (h.Lengths[gi] + 1);        // n counts the appended target
                for (int i = 0; i < h.Lengths[gi]; i++)
                    for (int j = 0; j <= i; j++) HistWeight.Data[(gi * len + i) * len + j] = w;
            }
            TargetDistance = new int[n * (len + 1)];
            TargetWeight = Tensor.Temp([n, 1, len + 1], zero: true);
            for (int r = 0; r < n; r++)
            {
                int l = h.Lengths[h.Group[r]];
                float w = 1f / (l + 1);
                for (int j = 0; j < l; j++)
                {
                    TargetDistance[r * (len + 1) + j] = Math.Min(l - j, maxDistance);
                    TargetWeight.Data[r * (len + 1) + j] = w;
                }
                TargetWeight.Data[r * (len + 1) + len] = w;   // the target attends to itself (distance 0)
            }
        }
    }

    /// <summary>One HSTU layer.</summary>
    sealed class Unit : Module
    {
        readonly LayerNorm inNorm, avNorm;
        readonly Linear f1, f2;
        readonly Tensor rab;          // [maxDistance + 1, heads]
        readonly int heads, headDim;
        public readonly int MaxDistance;

        public Unit(int d, int heads, int headDim, int maxDistance, Rng rng)
        {
            this.heads = heads;
            this.headDim = headDim;
            MaxDistance = maxDistance;
            int a = heads * headDim;
            inNorm = new LayerNorm(d);
            avNorm = new LayerNorm(a);
            f1 = new Linear(d, 4 * a, rng);
            f2 = new Linear(a, d, rng);
            rab = Tensor.Parameter("rab", maxDistance + 1, heads);
        }

        protected override IEnumerable<(string, Module)> Children()
        {
            yield return ("in_norm", inNorm);
            yield return ("av_norm", avNorm);
            yield return ("f1", f1);
            yield return ("f2", f2);
        }

        protected override IEnumerable<(string, Tensor)> LocalParameters() { yield return ("rab", rab); }

        Tensor HistoryRows(Tensor x, Tensor u, Tensor v, Tensor q, Tensor k, int g, int len, Plan plan)
        {
            var scores = Ops.Reshape(Ops.MatMul(PerHead(q), PerHead(k), transB: true), g, heads, len, len);
            var bias = Ops.Reshape(Ops.Permute(Ops.Reshape(Ops.IndexSelect(rab, plan.HistDistance), len, len, heads), 2, 0, 1), 1, heads, len, len);
            var weights = Ops.Mul(Silu(Ops.Add(scores, bias)), plan.HistWeight);
            var av = MergeHeads(Ops.MatMul(Ops.Reshape(weights, g * heads, len, len), PerHead(v)), g);   // [G, L, A]
            return Ops.Add(x, f2.Forward(Ops.Mul(avNorm.Forward(av), u)));
        }

        static Tensor Silu(Tensor x) => Ops.Mul(x, Ops.Sigmoid(x));

        /// <summary>[R, L, H·dh] → [R·H, L, dh].</summary>
        Tensor PerHead(Tensor x)
        {
            int r = x.Shape[0], l = x.Shape[1];
            return Ops.Reshape(Ops.Permute(Ops.Reshape(x, r, l, heads, headDim), 0, 2, 1, 3), r * heads, l, headDim);
        }

        /// <summary>[R·H, L, dh] → [R, L, H·dh].</summary>
        Tensor MergeHeads(Tensor x, int r)
        {
            int l = x.Shape[1];
            return Ops.Reshape(Ops.Permute(Ops.Reshape(x, r, heads, l, headDim), 0, 2, 1, 3), r, l, heads * headDim);
        }

        /// <summary>
        /// History x [G, L, d] and targets t [B, d] → both after this unit. The last unit skips the
        /// history rows' own update: only the target row is read after it.
        /// </summary>
        public (Tensor History, Tensor Target) Forward(Tensor x, Tensor t, PaddedHistories h, Plan plan, bool updateHistory)
        {
            int g = h.Groups, len = h.Len, n = t.Shape[0], a = heads * headDim;
            var parts = Ops.Split(Silu(f1.Forward(inNorm.Forward(x))), 2, a, a, a, a);      // U, V, Q, K: [G, L, A]
            var (u, v, q, k) = (parts[0], parts[1], parts[2], parts[3]);

            // History rows: causal pointwise attention within each distinct history.
            var xNext = updateHistory ? HistoryRows(x, u, v, q, k, g, len, plan) : x;

            // Target row: attends to its sample's history and itself.
            var tp = Ops.Split(Silu(f1.Forward(inNorm.Forward(t))), 1, a, a, a, a);         // [B, A] each
            var keys = Ops.Concat([h.PerSample(k), Ops.Reshape(tp[3], n, 1, a)], 1);         // [B, L+1, A]
            var values = Ops.Concat([h.PerSample(v), Ops.Reshape(tp[1], n, 1, a)], 1);
            var tq = Ops.Reshape(tp[2], n * heads, 1, headDim);
            var tScores = Ops.Reshape(Ops.MatMul(tq, PerHead(keys), transB: true), n, heads, len + 1);
            var tBias = Ops.Permute(Ops.Reshape(Ops.IndexSelect(rab, plan.TargetDistance), n, len + 1, heads), 0, 2, 1);
            var tWeights = Ops.Mul(Silu(Ops.Add(tScores, tBias)), plan.TargetWeight);       // [B, H, L+1]
            var tav = Ops.Reshape(Ops.MatMul(Ops.Reshape(tWeights, n * heads, 1, len + 1), PerHead(values)), n, a);
            var tNext = Ops.Add(t, f2.Forward(Ops.Mul(avNorm.Forward(tav), tp[0])));
            return (xNext, tNext);
        }
    }
}
