using SharpCtr.Tensors;

namespace SharpCtr.Tensors.Tests;

static class TestUtil
{
    public static Tensor Randn(Rng rng, params int[] shape)
    {
        var t = Tensor.Zeros(shape);
        for (int i = 0; i < t.Size; i++) t.Data[i] = (float)rng.NextNormal();
        return t;
    }

    public static Tensor Uniform(Rng rng, float lo, float hi, params int[] shape)
    {
        var t = Tensor.Zeros(shape);
        for (int i = 0; i < t.Size; i++) t.Data[i] = lo + (hi - lo) * rng.NextFloat();
        return t;
    }

    public static void AssertGrad(Func<Tensor> f, params Tensor[] inputs) => AssertGrad(f, inputs, 1e-2f);

    public static void AssertGrad(Func<Tensor> f, Tensor[] inputs, float eps, float atol = 2e-3f, float rtol = 2e-2f)
    {
        var r = GradCheck.Check(f, inputs, eps, atol, rtol);
        Assert.True(r.Ok, $"gradient check failed (max abs err {r.MaxAbsError}):\n{r.Report}");
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tol = 1e-5f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= tol * (1 + MathF.Abs(expected[i])),
                $"element {i}: expected {expected[i]}, got {actual[i]}");
    }
}
