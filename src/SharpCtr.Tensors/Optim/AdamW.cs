namespace SharpCtr.Tensors.Optim;

/// <summary>
/// AdamW as in torch.optim.AdamW: weight decay is decoupled from the gradient — the parameter is
/// first shrunk by (1 - lr·weight_decay), then the Adam update is applied to the raw gradient.
/// </summary>
public sealed class AdamW : Adam
{
    public AdamW(IEnumerable<Tensor> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 1e-2f)
        : this([new ParamGroup(parameters, learningRate, weightDecay)], beta1, beta2, eps) { }

    public AdamW(IEnumerable<ParamGroup> groups, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f)
        : base(groups, beta1, beta2, eps, decoupledWeightDecay: true) { }
}
