namespace SharpCtr.Tensors.Nn;

/// <summary>Layer normalisation over the last axis with a learned scale (ones) and shift (zeros).</summary>
public sealed class LayerNorm : Module
{
    public readonly int Dim;
    public readonly float Eps;
    public readonly Tensor Weight, Bias;

    public LayerNorm(int dim, float eps = 1e-5f)
    {
        Dim = dim;
        Eps = eps;
        Weight = Tensor.Parameter("weight", dim);
        Init.Constant(Weight, 1f);
        Bias = Tensor.Parameter("bias", dim);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters()
    {
        yield return ("weight", Weight);
        yield return ("bias", Bias);
    }

    public Tensor Forward(Tensor x)
    {
        if (x.Rank == 0 || x.Shape[^1] != Dim) throw new ArgumentException($"LayerNorm({Dim}): input shape {Tensor.ShapeString(x.Shape)} does not end in {Dim}");
        return Ops.LayerNorm(x, Weight, Bias, Eps);
    }
}
