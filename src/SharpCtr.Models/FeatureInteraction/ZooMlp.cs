using SharpCtr.Data.Config;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.FeatureInteraction;

/// <summary>
/// The deep part most interaction models share, read from the same keys DeepFM uses:
/// mlp ([256, 256, 256]), activation (relu), dropout (0), batch_norm.
/// </summary>
internal static class ZooMlp
{
    /// <param name="outputDim">1 for a logit head, 0 to return the last hidden layer.</param>
    public static Mlp Build(ConfigSection c, int inputDim, Rng rng, bool defaultBatchNorm = false, int outputDim = 1, string key = "mlp") =>
        new(inputDim, ModelConfig.Ints(c, key, [256, 256, 256]), rng,
            Activations.Parse(c.GetString("activation", "relu")), (float)c.GetDouble("dropout", 0, min: 0, below: 1),
            c.GetBool("batch_norm", defaultBatchNorm) ? MlpNorm.Batch : MlpNorm.None, outputDim);
}
