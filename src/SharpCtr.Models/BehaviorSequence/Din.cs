using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.BehaviorSequence;

/// <summary>
/// DIN (Zhou et al. 2018): a local activation unit scores each history item against the target
/// item, the history is pooled with those weights (no softmax, as in the paper), and an MLP
/// reads [field embeddings; pooled history]. The unit and its fused paths: <see cref="ActivationUnit"/>.
/// Config: embedding_dim (16), attention_units ([64, 32]), attention_activation (dice),
/// mlp ([256, 256, 256]), activation (dice), dropout (0), fields, use_softmax (false),
/// fused_inference (true: score with the fused activation-unit kernel when not training),
/// fused_training (true: the unit's first layer as one op when histories are not shared), tiled_training (true: with
/// fused_training, in training mode and with Dice activations, the whole unit as one tiled op).
/// </summary>
public sealed class Din : CtrModel
{
    readonly FeatureEmbeddings emb;
    readonly List<string> fields;
    readonly string[] queryFields;      // the target's fields aligned with the history's [item, sides...]
    readonly ActivationUnit unit;
    readonly Mlp mlp;
    readonly int[] userColumns;   // of the MLP's input: the user's fields, folded once per request when scoring
    readonly bool useSoftmax;

    public Din(ModelContext ctx)
    {
        var c = ctx.Config;
        int dim = c.GetInt("embedding_dim", 16, min: 1);
        emb = new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng);
        fields = ModelConfig.Fields(c, emb);
        queryFields = TargetQuery.Fields(ctx, "DIN");
        int kd = emb.SequenceWidth();
        unit = ActivationUnit.FromConfig(c, kd, ctx.Rng);
        unit.UseFusedInference = c.GetBool("fused_inference", true);
        unit.UseFusedInput = c.GetBool("fused_training", true);
        unit.UseTiled = c.GetBool("tiled_training", true);
        useSoftmax = c.GetBool("use_softmax", false);
        mlp = new Mlp(fields.Count * dim + kd, ModelConfig.Ints(c, "mlp", [256, 256, 256]), ctx.Rng,
            Activations.Parse(c.GetString("activation", "dice")), (float)c.GetDouble("dropout", 0, min: 0, below: 1), outputDim: 1);
        userColumns = emb.UserColumns(fields).ToArray();
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("embeddings", emb);
        foreach (var part in unit.NamedParts()) yield return part;
        yield return ("mlp", mlp);
    }

    /// <summary>Whether inference may use the fused activation unit (config `fused_inference`); tests compare both paths.</summary>
    public bool UseFusedAttention { get => unit.UseFusedInference; set => unit.UseFusedInference = value; }

    /// <summary>Whether the unit's first layer runs as one op when histories are not shared (config `fused_training`).</summary>
    public bool UseFusedUnitInput { get => unit.UseFusedInput; set => unit.UseFusedInput = value; }

    /// <summary>With <see cref="UseFusedUnitInput"/>: the whole unit as one tiled op in training with Dice (config `tiled_training`).</summary>
    public bool UseTiledUnit { get => unit.UseTiled; set => unit.UseTiled = value; }

    /// <summary>Whether this configuration (activations, widths) has a fused inference path.</summary>
    public bool HasFusedInference => unit.HasFusedInference;

    public override ModelOutput Forward(Batch b)
    {
        int n = b.Count;
        // Only real history positions go through the activation unit (no work on padding), and a
        // history shared by several candidates is looked up and projected once.
        var packed = emb.PackedSequence(b);
        var query = TargetQuery.Embed(emb, b, queryFields);                    // [B, K]
        var scores = unit.Scores(packed, query, Training);
        if (useSoftmax) scores = SegmentSoftmax(scores, packed.Offsets);
        var pooled = Ops.SegmentWeightedSum(packed.Keys, scores, packed.Offsets, packed.Shared ? packed.RowKey : null);   // [B, K]
        var parts = fields.Select(f => emb.Field(b, f)).Append(pooled).ToArray();
        var logit = mlp.Forward(Ops.Concat(parts, 1), userColumns);
        return new(Ops.Reshape(logit, n));
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
