using SharpCtr.Data.Batching;
using SharpCtr.Data.Config;
using SharpCtr.Data.Encoded;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models;

/// <summary>What a forward pass returns: one logit per row and any auxiliary loss terms.</summary>
public sealed class ModelOutput(Tensor logits)
{
    /// <summary>[B] logits of a click.</summary>
    public Tensor Logits { get; } = logits;
    /// <summary>Named extra loss terms, already weighted (e.g. GenCI's NTP, CDP's denoising loss).</summary>
    public List<(string Name, Tensor Value)> AuxLosses { get; } = new();
}

/// <summary>Everything a model constructor needs: the data schema, its config section and a seeded RNG.</summary>
public sealed record ModelContext(EncodedDataset Schema, ConfigSection Config, Rng Rng);

/// <summary>
/// A CTR model: a plain module whose forward pass reads a batch and returns logits. Models read
/// their hyper-parameters from <see cref="ModelContext.Config"/> (unknown keys are errors).
/// </summary>
public abstract class CtrModel : Module
{
    public abstract ModelOutput Forward(Batch batch);

    /// <summary>Embedding tables (sparse gradients); the trainer applies embedding L2 to their touched rows.</summary>
    public virtual IEnumerable<Tensor> EmbeddingTables() => Parameters().Where(p => p.Value.SparseGrad is not null).Select(p => p.Value);
}
