using SharpCtr.Data.Batching;
using SharpCtr.Data.Config;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.BehaviorSequence;

/// <summary>
/// The prediction head the sequence models share with DIN: an MLP over [field embeddings; the
/// model's sequence features] → one logit. Config: mlp ([256, 256, 256]), activation (dice), dropout (0).
/// </summary>
public sealed class SequenceHead : Module
{
    readonly FeatureEmbeddings emb;
    readonly List<string> fields;
    readonly Mlp mlp;
    readonly int[] userColumns;   // of the MLP's input, folded once per request when scoring

    public SequenceHead(ConfigSection c, FeatureEmbeddings emb, int sequenceWidth, Rng rng)
    {
        this.emb = emb;
        fields = ModelConfig.Fields(c, emb);
        mlp = new Mlp(fields.Count * emb.Dim + sequenceWidth, ModelConfig.Ints(c, "mlp", [256, 256, 256]), rng,
            Activations.Parse(c.GetString("activation", "dice")), (float)c.GetDouble("dropout", 0, min: 0, below: 1), outputDim: 1);
        userColumns = emb.UserColumns(fields).ToArray();
    }

    protected override IEnumerable<(string, Module)> Children() { yield return ("mlp", mlp); }

    /// <summary>[B] logits from the batch's fields and the sequence features (each [B, ·]).</summary>
    public Tensor Logits(Batch b, params Tensor[] sequenceFeatures)
    {
        var parts = fields.Select(f => emb.Field(b, f)).Concat(sequenceFeatures).ToArray();
        return Ops.Reshape(mlp.Forward(Ops.Concat(parts, 1), userColumns), b.Count);
    }
}
