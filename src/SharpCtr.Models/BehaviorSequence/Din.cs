using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using AttentionUnitKernel = SharpCtr.Tensors.Kernels.AttentionUnitKernel;
using InferenceLayer = SharpCtr.Tensors.Kernels.InferenceLayer;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.BehaviorSequence;

/// <summary>
/// DIN (Zhou et al. 2018): a local activation unit scores each history item against the target
/// item, the history is pooled with those weights (no softmax, as in the paper), and an MLP
/// reads [field embeddings; pooled history].
/// The unit's first layer over [q, k, q − k, q ⊙ k] is computed as q·A + k·B + (q ⊙ k)·C: the
/// same function class (A = W_q + W_d, B = W_k − W_d), but the q part is computed once per
/// sample instead of once per history position.
/// Config: embedding_dim (16), attention_units ([64, 32]), attention_activation (dice),
/// mlp ([256, 256, 256]), activation (dice), dropout (0), fields, use_softmax (false),
/// fused_inference (true: score with the fused activation-unit kernel when not training),
/// fused_training (true: the unit's first layer as one op when histories are not shared), tiled_training (true: with
/// fused_training, in training mode and with Dice activations, the whole unit as one tiled op, <see cref="DiceUnit"/>).
/// </summary>
public sealed class Din : CtrModel
{
    readonly FeatureEmbeddings emb;
    readonly List<string> fields;
    readonly string[] queryFields;      // the target's fields aligned with the history's [item, sides...]
    readonly Linear attQ, attK, attP;
    readonly Module? attAct;
    readonly Activation attActivation;
    readonly Mlp attRest;
    readonly Mlp mlp;
    readonly bool useSoftmax;

    public Din(ModelContext ctx)
    {
        var c = ctx.Config;
        int dim = c.GetInt("embedding_dim", 16);
        emb = new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng);
        fields = ModelConfig.Fields(c, emb);
        queryFields = TargetQuery.Fields(ctx, "DIN");
        int kd = emb.SequenceWidth();
        var units = ModelConfig.Ints(c, "attention_units", [64, 32]);
        attActivation = Activations.Parse(c.GetString("attention_activation", "dice"));
        attQ = new Linear(kd, units[0], ctx.Rng);
        attK = new Linear(kd, units[0], ctx.Rng, bias: false);
        attP = new Linear(kd, units[0], ctx.Rng, bias: false);
        attAct = attActivation switch { Activation.Dice => new Dice(units[0]), Activation.PRelu => new PRelu(units[0]), _ => null };
        attRest = new Mlp(units[0], units[1..], ctx.Rng, attActivation, outputDim: 1);
        useSoftmax = c.GetBool("use_softmax", false);
        UseFusedAttention = c.GetBool("fused_inference", true);
        UseFusedUnitInput = c.GetBool("fused_training", true);
        UseTiledUnit = c.GetBool("tiled_training", true);
        mlp = new Mlp(fields.Count * dim + kd, ModelConfig.Ints(c, "mlp", [256, 256, 256]), ctx.Rng,
            Activations.Parse(c.GetString("activation", "dice")), (float)c.GetDouble("dropout", 0), outputDim: 1);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("embeddings", emb);
        yield return ("att_q", attQ);
        yield return ("att_k", attK);
        yield return ("att_p", attP);
        if (attAct is not null) yield return ("att_act", attAct);
        yield return ("att_mlp", attRest);
        yield return ("mlp", mlp);
    }

    /// <summary>Whether inference may use the fused activation unit (config `fused_inference`, default true); tests compare both paths.</summary>
    public bool UseFusedAttention { get; set; }

    /// <summary>Whether the unit's first layer runs as one op (<see cref="Ops.ActivationUnitInput"/>) when histories are not
    /// shared — training batches (config `fused_training`, default true); false keeps the op-by-op graph, and tests compare them.</summary>
    public bool UseFusedUnitInput { get; set; }

    /// <summary>With <see cref="UseFusedUnitInput"/>: the whole unit as one tiled op (<see cref="DiceUnit"/>) in training mode
    /// when its activations are Dice (config `tiled_training`, default true); false stops after the first layer's op.</summary>
    public bool UseTiledUnit { get; set; }

    public override ModelOutput Forward(Batch b)
    {
        int n = b.Count;
        // Only real history positions go through the activation unit (no work on padding), and a
        // history shared by several candidates is looked up and projected once.
        var packed = emb.PackedSequence(b);
        var query = TargetQuery.Embed(emb, b, queryFields);                    // [B, K]
        bool inference = UseFusedAttention && !Training && !Tape.IsRecording;
        Tensor scores;
        if (inference && FusedLayers() is { } fused) scores = FusedScores(packed, query, attK.Forward(packed.Keys), fused);
        else if (UseFusedUnitInput && UseTiledUnit && !packed.Shared && Training && DiceUnit.Supports(attAct, attRest))
            scores = DiceUnit.Scores(packed.Keys, query, packed.RowSample, packed.Offsets, attK.Weight, attP.Weight, attQ.Forward(query), (Dice)attAct!, attRest);
        else if (UseFusedUnitInput && !packed.Shared)
            scores = UnitRest(Ops.ActivationUnitInput(packed.Keys, query, packed.RowSample, packed.Offsets, attK.Weight, attP.Weight, attQ.Forward(query)));
        else scores = UnitScores(packed, query, attK.Forward(packed.Keys));     // keyProj [U, H]: history-only work
        if (useSoftmax) scores = SegmentSoftmax(scores, packed.Offsets);
        var pooled = Ops.SegmentWeightedSum(packed.Keys, scores, packed.Offsets, packed.Shared ? packed.RowKey : null);   // [B, K]
        var parts = fields.Select(f => emb.Field(b, f)).Append(pooled).ToArray();
        var logit = mlp.Forward(Ops.Concat(parts, 1));
        return new(Ops.Reshape(logit, n));
    }

    /// <summary>The activation unit op by op (training, and any configuration the fused kernel does not cover).</summary>
    Tensor UnitScores(FeatureEmbeddings.Packed packed, Tensor query, Tensor keyProj)
    {
        var keys = packed.Shared ? Ops.IndexSelect(packed.Keys, packed.RowKey) : packed.Keys;   // [N, K]
        if (packed.Shared) keyProj = Ops.IndexSelect(keyProj, packed.RowKey);
        var qRows = Ops.IndexSelect(query, packed.RowSample);                  // [N, K]
        var h = Ops.Add(Ops.Add(keyProj, attP.Forward(Ops.Mul(keys, qRows))),
                        Ops.IndexSelect(attQ.Forward(query), packed.RowSample));   // [N, H]
        return UnitRest(h);
    }

    /// <summary>The unit after its first layer's pre-activation h [N, H]: activation, the rest of its MLP → scores [N].</summary>
    Tensor UnitRest(Tensor h)
    {
        h = attAct switch { Dice d => d.Forward(h), PRelu p => p.Forward(h), _ => Activations.Apply(attActivation, h) };
        return Ops.Reshape(attRest.Forward(h), -1);
    }

    /// <summary>The whole unit in one tiled pass, reading keys and query rows through the packed indices.</summary>
    Tensor FusedScores(FeatureEmbeddings.Packed packed, Tensor query, Tensor keyProj, (InferenceLayer First, InferenceLayer[] Hidden) layers)
    {
        var queryProj = attQ.Forward(query);
        int rows = packed.RowSample.Length;
        var scores = Tensor.Temp([rows]);
        var output = attRest.Output!;
        AttentionUnitKernel.Scores(packed.Keys.Data, packed.Shared ? packed.RowKey : null, query.Data, packed.RowSample, query.Cols,
            keyProj.Data, queryProj.Data, layers.First, layers.Hidden, output.Weight.Data, output.Bias is null ? 0f : output.Bias.Data[0],
            rows, scores.Data);
        return scores;
    }

    /// <summary>Whether this configuration (activations, widths) has a fused inference path.</summary>
    public bool HasFusedInference => FusedLayers() is not null;

    /// <summary>The unit's layers in the fused kernel's form, or null when the kernel does not cover this configuration.</summary>
    (InferenceLayer First, InferenceLayer[] Hidden)? FusedLayers()
    {
        if (attRest.Output is null) return null;   // the unit's Mlp is built without norms, so only activations and widths can rule the kernel out
        var first = InferenceForm.Of(attP, attAct, attActivation);
        if (first is null) return null;
        var hidden = new InferenceLayer[attRest.Layers.Length];
        for (int i = 0; i < hidden.Length; i++)
            if (InferenceForm.Of(attRest.Layers[i], attRest.Acts[i], attActivation) is { } l) hidden[i] = l; else return null;
        return AttentionUnitKernel.Supports(first.Out, hidden) ? (first, hidden) : null;
    }

    /// <summary>Softmax of the scores within each sample's history (the paper's optional normalisation).</summary>
    static Tensor SegmentSoftmax(Tensor scores, int[] offsets)
    {
        int bsz = offsets.Length - 1, len = 0;
        for (int r = 0; r < bsz; r++) len = Math.Max(len, offsets[r + 1] - offsets[r]);
        var rows = new int[bsz * Math.Max(1, len)];
        var mask = Tensor.Temp([bsz, Math.Max(1, len)], zero: true);
        for (int r = 0; r < bsz; r++)
            for (int k = offsets[r]; k < offsets[r + 1]; k++) { rows[r * len + k - offsets[r]] = k; mask.Data[r * len + k - offsets[r]] = 1; }
        var padded = Ops.Reshape(Ops.IndexSelect(Ops.Reshape(scores, -1, 1), rows), bsz, Math.Max(1, len));
        var soft = Ops.Reshape(Ops.Softmax(padded, mask), -1, 1);
        var back = new int[scores.Size];   // rows past offsets[B] (size-class padding) read row 0; pooling ignores them
        for (int r = 0; r < bsz; r++)
            for (int k = offsets[r]; k < offsets[r + 1]; k++) back[k] = r * len + k - offsets[r];
        return Ops.Reshape(Ops.IndexSelect(soft, back), -1);
    }
}
