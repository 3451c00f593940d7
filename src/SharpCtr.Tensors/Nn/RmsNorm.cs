namespace SharpCtr.Tensors.Nn;

/// <summary>
/// T5's layer norm: y = w · x / sqrt(mean(x²) + eps) over the last axis — no mean subtraction,
/// no bias; the scale starts at ones.
/// </summary>
public sealed class RmsNorm : Module
{
    public readonly int Dim;
    public readonly float Eps;
    public readonly Tensor Weight;

    public RmsNorm(int dim, float eps = 1e-6f)
    {
        Dim = dim;
        Eps = eps;
        Weight = Tensor.Parameter("weight", dim);
        Init.Constant(Weight, 1f);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters() { yield return ("weight", Weight); }

    public Tensor Forward(Tensor x)
    {
        if (x.Rank == 0 || x.Shape[^1] != Dim) throw new ArgumentException($"RmsNorm({Dim}): input shape {Tensor.ShapeString(x.Shape)} does not end in {Dim}");
        return Ops.RmsNorm(x, Weight, Eps);
    }
}
