namespace SharpCtr.Tensors.Optim;

/// <summary>
/// What an optimizer remembers about one parameter: how many updates it has received and its
/// buffers (Adam's moments, Adagrad's sum, SGD's momentum), each shaped like the parameter and
/// named as in PyTorch's state_dict so checkpoints read naturally.
/// </summary>
public sealed class ParamState
{
    public readonly Tensor Param;
    public readonly string[] BufferNames;
    public readonly Tensor[] Buffers;
    public int Step;

    internal ParamState(Tensor param, string[] bufferNames, float initialValue)
    {
        Param = param;
        BufferNames = bufferNames;
        Buffers = new Tensor[bufferNames.Length];
        for (int i = 0; i < Buffers.Length; i++)
            Buffers[i] = initialValue == 0f ? Tensor.Zeros((int[])param.Shape.Clone()) : Tensor.Full(initialValue, (int[])param.Shape.Clone());
    }
}
