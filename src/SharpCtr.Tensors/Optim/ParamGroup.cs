namespace SharpCtr.Tensors.Optim;

/// <summary>
/// Parameters that share a learning rate and weight decay (e.g. CDP: dense layers 2.5e-4,
/// embedding tables 5e-4). <see cref="LearningRate"/> is mutable so schedules can change it;
/// <see cref="InitialLearningRate"/> keeps the configured value they scale from.
/// </summary>
public sealed class ParamGroup
{
    public readonly Tensor[] Params;
    public readonly float InitialLearningRate;
    public float LearningRate;
    public float WeightDecay;

    public ParamGroup(IEnumerable<Tensor> parameters, float learningRate, float weightDecay = 0f)
    {
        Params = parameters.ToArray();
        if (!(learningRate >= 0f)) throw new ArgumentOutOfRangeException(nameof(learningRate), $"learning rate must be >= 0, got {learningRate}");
        if (!(weightDecay >= 0f)) throw new ArgumentOutOfRangeException(nameof(weightDecay), $"weight decay must be >= 0, got {weightDecay}");
        InitialLearningRate = learningRate;
        LearningRate = learningRate;
        WeightDecay = weightDecay;
    }
}
