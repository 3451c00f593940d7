using SharpCtr.Data.Batching;
using SharpCtr.Data.Config;
using SharpCtr.Tensors;

namespace SharpCtr.Models;

/// <summary>
/// The per-field embeddings of models that see every input as a field ([B, D] each): the
/// configured fields plus, when `sequence: mean` (the default), the behaviour sequence's items
/// and side fields mean-pooled as extra fields — FuxiCTR's treatment of a history in DeepFM.
/// </summary>
public sealed class FieldInputs
{
    public readonly FeatureEmbeddings Embeddings;
    public readonly List<string> Fields;
    public readonly bool PoolSequence;
    /// <summary>The config's `sequence` value.</summary>
    public readonly string Sequence;

    /// <param name="defaultSequence">`sequence` when the config leaves it out: mean (the feature-interaction
    /// models), or none for a model whose history has its own path (CDP's purified interest).</param>
    /// <param name="otherSequenceChoices">values of `sequence` the model handles itself (pooled nothing here).</param>
    public FieldInputs(FeatureEmbeddings embeddings, ConfigSection c, string defaultSequence = "mean", params string[] otherSequenceChoices)
    {
        Embeddings = embeddings;
        Fields = ModelConfig.Fields(c, embeddings);
        Sequence = c.GetChoice("sequence", defaultSequence, ["mean", "none", .. otherSequenceChoices]);
        PoolSequence = Sequence == "mean" && embeddings.HasSequence;
        int d = embeddings.Dim;
        UserColumns = [.. embeddings.UserColumns(Fields), .. PoolSequence ? Enumerable.Range(Fields.Count * d, (1 + embeddings.SequenceSideCount) * d) : []];
    }

    /// <summary>Number of [B, D] inputs <see cref="Embed"/> returns.</summary>
    public int Count => Fields.Count + (PoolSequence ? 1 + Embeddings.SequenceSideCount : 0);

    /// <summary>
    /// The columns of the concatenated <see cref="Embed"/> output that hold the user's fields and
    /// pooled history: the same in every row of a ranking request, so an MLP over them can fold
    /// their share of its first layer into one product per request
    /// (<see cref="Tensors.Nn.Mlp.Forward(Tensor, int[])"/>, which keys its split on this array).
    /// </summary>
    public int[] UserColumns { get; }

    public List<Tensor> Embed(Batch b)
    {
        var list = new List<Tensor>(Count);
        foreach (var f in Fields) list.Add(Embeddings.Field(b, f));
        if (PoolSequence) list.AddRange(Embeddings.PooledSequence(b));
        return list;
    }
}
