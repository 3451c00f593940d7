using SharpCtr.Tensors;
using static SharpCtr.Tensors.Tests.TestUtil;

namespace SharpCtr.Tensors.Tests.Ops;

public class CoreOpsTests
{
    readonly Rng rng = new(42);

    [Theory]
    [InlineData(new[] { 3, 4 }, new[] { 3, 4 })]
    [InlineData(new[] { 3, 4 }, new[] { 4 })]
    [InlineData(new[] { 4 }, new[] { 3, 4 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 3, 1 })]
    [InlineData(new[] { 2, 1, 4 }, new[] { 1, 3, 1 })]
    [InlineData(new[] { 3, 4 }, new int[0])]
    public void BinaryOpsBroadcastAndGradients(int[] sa, int[] sb)
    {
        var a = Randn(rng, sa);
        var b = Uniform(rng, 0.5f, 2f, sb);
        AssertGrad(() => SharpCtr.Tensors.Ops.Add(a, b), a, b);
        AssertGrad(() => SharpCtr.Tensors.Ops.Sub(a, b), a, b);
        AssertGrad(() => SharpCtr.Tensors.Ops.Mul(a, b), a, b);
        AssertGrad(() => SharpCtr.Tensors.Ops.Div(a, b), a, b);
    }

    [Fact]
    public void BroadcastForwardMatchesHandComputed()
    {
        var a = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        var b = Tensor.FromArray([10, 20, 30], 3);
        var c = Tensor.FromArray([100, 200], 2, 1);
        Assert.Equal([11f, 22, 33, 14, 25, 36], SharpCtr.Tensors.Ops.Add(a, b).ToArray());
        Assert.Equal([-99f, -98, -97, -196, -195, -194], SharpCtr.Tensors.Ops.Sub(a, c).ToArray());
        Assert.Throws<ArgumentException>(() => SharpCtr.Tensors.Ops.Add(a, Tensor.Zeros(2)));
    }

    [Fact]
    public void UnaryOpsGradients()
    {
        var x = Randn(rng, 3, 5);
        var pos = Uniform(rng, 0.5f, 3f, 3, 5);
        AssertGrad(() => SharpCtr.Tensors.Ops.Neg(x), x);
        AssertGrad(() => SharpCtr.Tensors.Ops.AddScalar(x, 3), x);
        AssertGrad(() => SharpCtr.Tensors.Ops.MulScalar(x, -2.5f), x);
        AssertGrad(() => SharpCtr.Tensors.Ops.Exp(x), x);
        AssertGrad(() => SharpCtr.Tensors.Ops.Log(pos), pos);
        AssertGrad(() => SharpCtr.Tensors.Ops.Sqrt(pos), pos);
        AssertGrad(() => SharpCtr.Tensors.Ops.Pow(pos, 2.5f), pos);
        AssertGrad(() => SharpCtr.Tensors.Ops.Sigmoid(x), x);
        AssertGrad(() => SharpCtr.Tensors.Ops.Tanh(x), x);
        AssertGrad(() => SharpCtr.Tensors.Ops.Softplus(x), x);
        AssertGrad(() => SharpCtr.Tensors.Ops.Gelu(x), x);
        // Kinks: keep inputs away from 0 / the clamp bounds so finite differences are valid.
        var away = Tensor.FromArray([-2f, -1.5f, -0.7f, -0.3f, 0.4f, 0.8f, 1.3f, 2.2f], 8);
        AssertGrad(() => SharpCtr.Tensors.Ops.Relu(away), away);
        AssertGrad(() => SharpCtr.Tensors.Ops.LeakyRelu(away, 0.1f), away);
        AssertGrad(() => SharpCtr.Tensors.Ops.Abs(away), away);
        AssertGrad(() => SharpCtr.Tensors.Ops.Clamp(away, -1f, 1f), away);
    }

    /// <summary>ReLU's and leaky ReLU's vectorised kernels against the element loops they replaced,
    /// bit for bit: rows of 37 (two vectors and a tail), exact zeros, a gradient that accumulates.</summary>
    [Theory]
    [InlineData(new[] { 5, 37 })]
    [InlineData(new[] { 3, 2, 16 })]
    [InlineData(new[] { 1 })]
    [InlineData(new[] { 0, 8 })]
    public void ReluKernelsMatchTheElementLoop(int[] shape)
    {
        foreach (float slope in new[] { 0f, 0.1f })
        {
            var x = Randn(rng, shape);
            for (int i = 0; i < x.Size; i += 7) x.Data[i] = 0f;
            x.RequiresGrad = true;
            var before = Randn(rng, shape).ToArray();
            x.GradBuffer();
            before.CopyTo(x.Grad!.Data, 0);
            var gy = Randn(rng, shape);
            using (var tape = Tape.Train())
            {
                var y = slope == 0 ? SharpCtr.Tensors.Ops.Relu(x) : SharpCtr.Tensors.Ops.LeakyRelu(x, slope);
                for (int i = 0; i < x.Size; i++)
                    Assert.Equal(x.Data[i] > 0 ? x.Data[i] : slope * x.Data[i], y.Data[i]);
                y.Grad = gy;
                tape.BackwardFrom(y);
            }
            for (int i = 0; i < x.Size; i++)
            {
                float expected = before[i] + (x.Data[i] > 0 ? gy.Data[i] : slope * gy.Data[i]);
                Assert.Equal(expected, x.Grad!.Data[i]);
            }
        }
    }

    [Fact]
    public void ActivationValuesMatchClosedForms()
    {
        var x = Tensor.FromArray([-30f, -1f, 0f, 1f, 30f], 5);
        AssertClose([0f, 0.26894142f, 0.5f, 0.7310586f, 1f], SharpCtr.Tensors.Ops.Sigmoid(x).Span);
        AssertClose([9.357623e-14f, 0.3132617f, 0.6931472f, 1.3132616f, 30f], SharpCtr.Tensors.Ops.Softplus(x).Span);
        // torch.nn.functional.gelu (erf form) at -1, 0, 1
        AssertClose([-0.15865526f, 0f, 0.8413447f], SharpCtr.Tensors.Ops.Gelu(Tensor.FromArray([-1f, 0f, 1f], 3)).Span, 1e-6f);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void MatMulGradients(bool ta, bool tb)
    {
        int m = 3, k = 4, n = 5;
        var a = Randn(rng, ta ? [k, m] : [m, k]);
        var b = Randn(rng, tb ? [n, k] : [k, n]);
        AssertGrad(() => SharpCtr.Tensors.Ops.MatMul(a, b, ta, tb), a, b);
        // batched
        var ab = Randn(rng, ta ? [2, k, m] : [2, m, k]);
        var bb = Randn(rng, tb ? [2, n, k] : [2, k, n]);
        AssertGrad(() => SharpCtr.Tensors.Ops.MatMul(ab, bb, ta, tb), ab, bb);
        // stack of rows (or transposed stack) times one shared matrix
        AssertGrad(() => SharpCtr.Tensors.Ops.MatMul(ab, b, ta, tb), ab, b);
    }

    [Fact]
    public void MatMulForwardMatchesHandComputed()
    {
        var a = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        var b = Tensor.FromArray([1, 0, 0, 1, 1, 1], 3, 2);
        Assert.Equal([4f, 5, 10, 11], SharpCtr.Tensors.Ops.MatMul(a, b).ToArray());
        Assert.Equal([1f * 1 + 2 * 2 + 3 * 3, 1 * 4 + 2 * 5 + 3 * 6, 4 * 1 + 5 * 2 + 6 * 3, 4 * 4 + 5 * 5 + 6 * 6],
            SharpCtr.Tensors.Ops.MatMul(a, a, transB: true).ToArray());
    }

    [Fact]
    public void ReductionsGradientsAndValues()
    {
        var x = Randn(rng, 2, 3, 4);
        for (int axis = 0; axis < 3; axis++)
        {
            int ax = axis;
            AssertGrad(() => SharpCtr.Tensors.Ops.Sum(x, ax), x);
            AssertGrad(() => SharpCtr.Tensors.Ops.Mean(x, ax, keepDim: true), x);
            AssertGrad(() => SharpCtr.Tensors.Ops.Max(x, ax), x);
        }
        AssertGrad(() => SharpCtr.Tensors.Ops.Sum(x), x);
        AssertGrad(() => SharpCtr.Tensors.Ops.Mean(x), x);
        var y = Tensor.FromArray([1, 5, 3, 4, 2, 6], 2, 3);
        Assert.Equal([5f, 7, 9], SharpCtr.Tensors.Ops.Sum(y, 0).ToArray());
        Assert.Equal([5f, 6], SharpCtr.Tensors.Ops.Max(y, 1).ToArray());
        Assert.Equal([3f, 4], SharpCtr.Tensors.Ops.Mean(y, -1).ToArray());
    }

    /// <summary>StopGradient passes values and blocks gradients: in y = x·stop(x), dy/dx is stop(x) = x, not 2x.</summary>
    [Fact]
    public void StopGradientPassesValuesAndBlocksGradients()
    {
        var x = Tensor.Parameter("x", 2, 3);
        SharpCtr.Tensors.Nn.Init.Normal(x, rng, 1f);
        using (var tape = Tape.Train())
        {
            var stopped = SharpCtr.Tensors.Ops.StopGradient(x);
            Assert.Equal(x.ToArray(), stopped.ToArray());
            tape.Backward(SharpCtr.Tensors.Ops.Sum(SharpCtr.Tensors.Ops.Mul(x, stopped)));
        }
        Assert.Equal(x.ToArray(), x.Grad!.ToArray());
        using (Tape.Inference()) Assert.Same(x, SharpCtr.Tensors.Ops.StopGradient(x));   // nothing to cut
    }

    [Fact]
    public void ShapeOpsGradientsAndValues()
    {
        var x = Randn(rng, 2, 3, 4);
        AssertGrad(() => SharpCtr.Tensors.Ops.Reshape(x, 6, -1), x);
        AssertGrad(() => SharpCtr.Tensors.Ops.Transpose(x), x);
        AssertGrad(() => SharpCtr.Tensors.Ops.Permute(x, 2, 0, 1), x);
        var z = Randn(rng, 2, 5, 4);
        AssertGrad(() => SharpCtr.Tensors.Ops.Concat([x, z], 1), x, z);
        AssertGrad(() => SharpCtr.Tensors.Ops.Slice(x, 2, 1, 2), x);
        var s = Randn(rng, 3, 1);
        AssertGrad(() => SharpCtr.Tensors.Ops.Expand(s, 2, 3, 4), s);
        AssertGrad(() => SharpCtr.Tensors.Ops.Repeat(x, 0, 3), x);

        var m = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        Assert.Equal([1f, 4, 2, 5, 3, 6], SharpCtr.Tensors.Ops.Transpose(m).ToArray());
        Assert.Equal([2f, 3, 5, 6], SharpCtr.Tensors.Ops.Slice(m, 1, 1, 2).ToArray());
        Assert.Equal([1f, 2, 3, 9, 4, 5, 6, 9], SharpCtr.Tensors.Ops.Concat([m, Tensor.Full(9, 2, 1)], 1).ToArray());
        Assert.Throws<ArgumentException>(() => SharpCtr.Tensors.Ops.Reshape(m, 4, 2));
    }

    [Fact]
    public void GradientsAccumulateAcrossUsesAndBackwardCalls()
    {
        var w = Tensor.Parameter("w", 3);
        w.Data[0] = 1; w.Data[1] = 2; w.Data[2] = 3;
        using (var tape = Tape.Train())
        {
            var y = SharpCtr.Tensors.Ops.Sum(SharpCtr.Tensors.Ops.Mul(w, w)); // d/dw = 2w (w used twice)
            tape.Backward(y);
        }
        Assert.Equal([2f, 4, 6], w.Grad!.ToArray());
        using (var tape = Tape.Train())
            tape.Backward(SharpCtr.Tensors.Ops.Sum(w));
        Assert.Equal([3f, 5, 7], w.Grad!.ToArray());
    }

    [Fact]
    public void InferenceTapeRecordsNothingAndPoolsBuffers()
    {
        var w = Tensor.Parameter("w", 4, 4);
        float[] mmBuffer, reluBuffer;
        Tensor escaped;
        using (var tape = Tape.Inference())
        {
            var h = SharpCtr.Tensors.Ops.MatMul(w, w);
            var y = SharpCtr.Tensors.Ops.Relu(h);
            Assert.False(y.RequiresGrad);
            Assert.Equal(0, tape.Count);
            (mmBuffer, reluBuffer, escaped) = (h.Data, y.Data, y);
        }
        Assert.ThrowsAny<ArgumentException>(() => escaped.Span[0]); // used after its scope: fails loudly
        using (Tape.Inference())
        {
            var y = SharpCtr.Tensors.Ops.Relu(SharpCtr.Tensors.Ops.MatMul(w, w));
            Assert.True(ReferenceEquals(y.Data, mmBuffer) || ReferenceEquals(y.Data, reluBuffer), "same-size buffers come back from the pool");
        }
    }
}
