using SharpCtr.Tensors;
using static SharpCtr.Tensors.Tests.TestUtil;

namespace SharpCtr.Tensors.Tests.Ops;

/// <summary>Sin and Cos (added for rotation-based models such as RFM): values and gradients.</summary>
public class TrigOpsTests
{
    [Fact]
    public void SinAndCosMatchMathF()
    {
        var x = Tensor.FromArray([-3f, -1f, 0f, 0.5f, 2f, 7f], 6);
        var sin = SharpCtr.Tensors.Ops.Sin(x).ToArray();
        var cos = SharpCtr.Tensors.Ops.Cos(x).ToArray();
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(MathF.Sin(x.Data[i]), sin[i], 1e-5);
            Assert.Equal(MathF.Cos(x.Data[i]), cos[i], 1e-5);
        }
    }

    [Fact]
    public void SinAndCosGradientsMatchFiniteDifferences()
    {
        var x = Randn(new Rng(7), 3, 5);
        AssertGrad(() => SharpCtr.Tensors.Ops.Sin(x), x);
        AssertGrad(() => SharpCtr.Tensors.Ops.Cos(x), x);
        // cos² + sin² = 1 has zero gradient: the two backward passes must cancel exactly.
        AssertGrad(() => SharpCtr.Tensors.Ops.Add(SharpCtr.Tensors.Ops.Mul(SharpCtr.Tensors.Ops.Sin(x), SharpCtr.Tensors.Ops.Sin(x)),
            SharpCtr.Tensors.Ops.Mul(SharpCtr.Tensors.Ops.Cos(x), SharpCtr.Tensors.Ops.Cos(x))), x);
    }
}
