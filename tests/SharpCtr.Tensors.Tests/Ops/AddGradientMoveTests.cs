using static SharpCtr.Tensors.Tests.TestUtil;
using O = SharpCtr.Tensors.Ops;

namespace SharpCtr.Tensors.Tests.Ops;

/// <summary>
/// The add/sub backward hands the incoming gradient buffer to an input without a gradient
/// instead of copying it. These cases would go wrong if a moved buffer were shared where it
/// must not be: a tensor added to itself, a tensor feeding two adds, parameters (whose gradients
/// outlive the scope), and a caller-provided output gradient.
/// </summary>
public class AddGradientMoveTests
{
    readonly Rng rng = new(11);

    [Fact]
    public void TensorAddedToItself()
    {
        var p = Randn(rng, 3, 4);
        AssertGrad(() => { var a = O.MulScalar(p, 1.5f); return O.Add(a, a); }, p);
        AssertGrad(() => { var a = O.MulScalar(p, 1.5f); return O.Add(O.Sub(a, a), O.Mul(a, a)); }, p);
        AssertGrad(() => O.Add(p, p), p);
    }

    [Fact]
    public void TensorFeedingTwoAdds()
    {
        var p = Randn(rng, 2, 5);
        var c = Randn(rng, 2, 5);
        var d = Randn(rng, 2, 5);
        // x is a temporary used by two adds whose results meet again, and by a mul.
        AssertGrad(() =>
        {
            var x = O.Tanh(p);
            var y1 = O.Add(x, c);
            var y2 = O.Sub(d, x);
            return O.Mul(O.Add(y1, y2), O.Add(x, y1));
        }, p, c, d);
    }

    [Fact]
    public void ExactGradientsThroughAChainOfTemporaries()
    {
        var a = Tensor.FromArray([1f, 2f, 3f], 3); a.RequiresGrad = true;
        var b = Tensor.FromArray([10f, 20f, 30f], 3); b.RequiresGrad = true;
        using var tape = Tape.Train();
        var t = O.MulScalar(a, 2f);          // t = 2a
        var u = O.Add(t, b);                 // u = 2a + b
        var v = O.Sub(u, t);                 // v = b (t used twice)
        var w = O.Add(v, u);                 // w = 2a + 2b
        var loss = O.Sum(O.Mul(w, w));       // Σ (2a + 2b)²
        tape.Backward(loss);
        // d/da = 2(2a+2b)·2, d/db = 2(2a+2b)·2
        for (int i = 0; i < 3; i++)
        {
            float g = 8f * (a.Data[i] + b.Data[i]);
            Assert.Equal(g, a.Grad!.Data[i], 1e-4);
            Assert.Equal(g, b.Grad!.Data[i], 1e-4);
        }
    }

    [Fact]
    public void ParameterGradientsAccumulateAndTheCallersSeedIsLeftAlone()
    {
        var a = Tensor.Parameter("a", 4, 2);
        var b = Tensor.Parameter("b", 4, 2);
        var seed = Tensor.Full(0.5f, 4, 2);
        for (int step = 1; step <= 3; step++)
        {
            using var tape = Tape.Train();
            var y = O.Sub(a, b);
            y.Grad = seed;
            tape.BackwardFrom(y);
            Assert.All(seed.ToArray(), v => Assert.Equal(0.5f, v));
            Assert.All(a.Grad!.ToArray(), v => Assert.Equal(0.5f * step, v));
            Assert.All(b.Grad!.ToArray(), v => Assert.Equal(-0.5f * step, v));
        }
        // The parameters' gradients are their own memory: still readable after the scope.
        Assert.Equal(1.5f, a.Grad!.Data[7]);
    }

    [Fact]
    public void TemporaryTakesAPooledGradientOnlyOnce()
    {
        var p = Tensor.Parameter("p", 6);
        for (int i = 0; i < 6; i++) p.Data[i] = i - 2.5f;
        using var tape = Tape.Train();
        var x = O.MulScalar(p, 3f);
        var y = O.Add(x, O.MulScalar(p, -1f));   // both inputs are temporaries without a gradient
        var loss = O.Sum(O.Mul(y, y));           // Σ (2p)² → d/dp = 8p
        tape.Backward(loss);
        for (int i = 0; i < 6; i++) Assert.Equal(8f * p.Data[i], p.Grad!.Data[i], 1e-4);
    }
}
