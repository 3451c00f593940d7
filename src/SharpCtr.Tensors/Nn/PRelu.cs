namespace SharpCtr.Tensors.Nn;

/// <summary>PReLU: x &gt; 0 ? x : α·x with one learned α per feature (last axis), initialised to 0.25 as in PyTorch.</summary>
public sealed class PRelu : Module
{
    public readonly Tensor Alpha;

    public PRelu(int dim, float init = 0.25f)
    {
        Alpha = Tensor.Parameter("alpha", dim);
        Init.Constant(Alpha, init);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters() { yield return ("alpha", Alpha); }

    public Tensor Forward(Tensor x) => Ops.PRelu(x, Alpha);
}
