using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.BehaviorSequence;

/// <summary>
/// DIEN (Zhou et al., AAAI 2019). Interest extractor: a GRU over the history keys; its state h_t
/// is trained by the auxiliary loss to tell the next behaviour e_{t+1} from a negative behaviour
/// sampled uniformly from the item vocabulary with the model's own Rng (binary cross-entropy,
/// weight aux_weight). Interest evolution: attention a_t = softmax_t(h_t · W · e_target) drives
/// an AUGRU over h; its final state, the mean history key and the field embeddings feed the MLP.
/// The auxiliary score is the paper's inner product, σ((h_t W_aux) · e), not the authors' code's
/// MLP over [h_t; e] (which was 2/3 of a training step here for no stated gain).
/// Deviations: the auxiliary score sees only the item embedding of e_{t+1} / the negative (hence
/// W_aux: hidden → embedding_dim), since a sampled negative's side fields (genre) are not known to
/// the model. The extractor runs once per distinct history in the batch (candidates of one
/// request share it).
/// Config: embedding_dim (16), hidden (history key width), aux_weight (1.0),
/// mlp/activation/dropout/fields as DIN.
/// </summary>
public sealed class Dien : CtrModel
{
    readonly FeatureEmbeddings emb;
    readonly string[] queryFields;
    readonly int maxLen;
    readonly Gru extractor;
    readonly Augru evolution;
    readonly Linear attention;          // W in h_t · W · e_target
    readonly Linear aux;                // W_aux in σ((h_t W_aux) · e)
    readonly SequenceHead head;
    readonly float auxWeight;
    readonly int itemVocab;
    readonly Embedding itemTable;
    readonly Rng negatives;
    readonly string sequenceName;

    public Dien(ModelContext ctx)
    {
        var c = ctx.Config;
        int dim = c.GetInt("embedding_dim", 16, min: 1);
        emb = new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng);
        queryFields = TargetQuery.Fields(ctx, "DIEN");
        maxLen = ctx.Schema.Sequence!.MaxLen;
        int kd = emb.SequenceWidth();
        int hidden = c.GetInt("hidden", kd, min: 1);
        extractor = new Gru(kd, hidden, ctx.Rng);
        evolution = new Augru(hidden, hidden, ctx.Rng);
        attention = new Linear(kd, hidden, ctx.Rng, bias: false);
        aux = new Linear(hidden, dim, ctx.Rng, bias: false);
        auxWeight = (float)c.GetDouble("aux_weight", 1.0, min: 0);
        head = new SequenceHead(c, emb, hidden + kd, ctx.Rng);
        itemTable = emb.Table(ctx.Schema.Sequence!.Source);
        itemVocab = itemTable.Vocab;
        negatives = ctx.Rng.Fork();
        sequenceName = ctx.Schema.Sequence.Name;
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("embeddings", emb);
        yield return ("extractor", extractor);
        yield return ("evolution", evolution);
        yield return ("attention", attention);
        yield return ("aux", aux);
        yield return ("head", head);
    }

    protected override IEnumerable<(string, Rng)> LocalRngs() { yield return ("negatives", negatives); }

    public override ModelOutput Forward(Batch b)
    {
        int n = b.Count;
        var hist = PaddedHistories.From(emb.PackedSequence(b), maxLen);
        int len = hist.Len;
        var (states, _) = extractor.Forward(hist.Keys, hist.Lengths);            // [G, L, H]
        int h = states.Shape[2];

        var sampleStates = hist.PerSample(states);                               // [B, L, H]
        var keep = hist.PerSample(hist.Keep);                                    // [B, L]
        var q = attention.Forward(TargetQuery.Embed(emb, b, queryFields));      // [B, H]
        var scores = Ops.Reshape(Ops.MatMul(sampleStates, Ops.Reshape(q, n, h, 1)), n, len);
        var a = Ops.Softmax(scores, keep);
        var (_, interest) = evolution.Forward(sampleStates, a, hist.SampleLengths());   // [B, H]
        var meanKey = hist.PerSample(Ops.MaskedMean(hist.Keys, hist.Keep));     // [B, K]

        var output = new ModelOutput(head.Logits(b, interest, meanKey));
        if (Training && auxWeight > 0 && AuxiliaryLoss(b, hist, states) is { } auxLoss)
            output.AuxLosses.Add(("dien_aux", Ops.MulScalar(auxLoss, auxWeight)));
        return output;
    }

    /// <summary>
    /// Mean BCE of the auxiliary score over every step t with a next behaviour: h_t with e_{t+1}
    /// labelled 1, h_t with a sampled item labelled 0. Every (group, t &lt; L − 1) pair is scored and
    /// padding pairs are masked out, so the shapes do not depend on the batch's history lengths.
    /// Null when no history has two behaviours.
    /// </summary>
    Tensor? AuxiliaryLoss(Batch b, PaddedHistories hist, Tensor states)
    {
        int len = hist.Len, h = states.Shape[2], d = emb.Dim, steps = len - 1, m = hist.Groups * steps;
        if (steps < 1) return null;
        var sv = b.Sequence(sequenceName);
        var stateRows = new int[m];
        var nextRows = new int[m];
        var negIds = new int[m];                 // 0 (the padding row) where masked
        var mask = new float[m];
        int real = 0;
        for (int g = 0; g < hist.Groups; g++)
            for (int t = 0; t < steps; t++)
            {
                int i = g * steps + t;
                stateRows[i] = g * len + t;
                nextRows[i] = g * len + t + 1;
                if (t + 1 >= hist.Lengths[g]) continue;
                int next = sv.Items[hist.FirstSample[g] * sv.MaxLen + t + 1], id;
                do id = 1 + negatives.NextInt(itemVocab - 1); while (id == next && itemVocab > 2);
                negIds[i] = id;
                mask[i] = 1;
                real++;
            }
        if (real == 0) return null;
        var nextItems = Ops.IndexSelect(Ops.Reshape(Ops.Slice(hist.Keys, 2, 0, d), -1, d), nextRows);   // [M, D]
        var negItems = itemTable.Forward(negIds, m);                                                     // [M, D]
        var st = aux.Forward(Ops.IndexSelect(Ops.Reshape(states, -1, h), stateRows));                  // [M, D]
        // BCE(x, 1) = softplus(−x), BCE(x, 0) = softplus(x).
        var perStep = Ops.Add(Ops.Softplus(Ops.Neg(Ops.Sum(Ops.Mul(st, nextItems), 1))), Ops.Softplus(Ops.Sum(Ops.Mul(st, negItems), 1)));
        return Ops.MulScalar(Ops.Sum(Ops.Mul(perStep, Tensor.FromArray(mask, m))), 1f / (2 * real));
    }
}
