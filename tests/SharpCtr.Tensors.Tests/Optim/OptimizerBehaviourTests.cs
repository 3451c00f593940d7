using SharpCtr.Tensors.Optim;

namespace SharpCtr.Tensors.Tests.Optim;

public class OptimizerBehaviourTests
{
    static Tensor Table(Rng rng, int vocab, int dim)
    {
        var t = Tensor.Parameter("table", vocab, dim);
        for (int i = 0; i < t.Size; i++) t.Data[i] = (float)rng.NextNormal();
        t.SparseGrad = new SparseRowGrad(vocab, dim);
        return t;
    }

    static void Touch(Tensor table, int row, float value)
    {
        var slot = table.SparseGrad!.Slot(row);
        for (int j = 0; j < slot.Length; j++) slot[j] += value * (j + 1);
    }

    [Fact]
    public void LazyAdamMovesOnlyTouchedRowsAndKeepsOtherMomentsFrozen()
    {
        var table = Table(new Rng(1), 8, 20);   // 20 = one vector of 16 + a scalar tail
        var opt = new Adam([new ParamGroup([table], 0.1f, weightDecay: 0.01f)]);
        Touch(table, 2, 1f); Touch(table, 5, -0.5f);
        opt.Step();
        var momentsAfterFirst = opt.States[0].Buffers[0].ToArray();
        var before = table.ToArray();
        opt.ZeroGrad();
        Assert.Equal(0, table.SparseGrad!.Count);
        Touch(table, 5, 0.25f);
        opt.Step();
        var after = table.ToArray();
        var m = opt.States[0].Buffers[0].Data;
        for (int r = 0; r < 8; r++)
            for (int j = 0; j < 20; j++)
            {
                int i = r * 20 + j;
                if (r == 5) Assert.NotEqual(before[i], after[i]);
                else
                {
                    Assert.Equal(before[i], after[i]);
                    Assert.Equal(momentsAfterFirst[i], m[i]);   // row 2 was touched once; its moments are not decayed
                }
            }
        Assert.Equal(2, opt.States[0].Step);
    }

    [Fact]
    public void SparseGradTouchingEveryRowMatchesDenseGradForSgdAndAdagrad()
    {
        foreach (var make in new Func<Tensor, Optimizer>[] { t => new Sgd([t], 0.1f, weightDecay: 0.01f), t => new Adagrad([t], 0.1f, weightDecay: 0.01f) })
        {
            var sparse = Table(new Rng(3), 4, 17);
            var dense = sparse.Clone(); dense.RequiresGrad = true; dense.Name = "dense";
            var os = make(sparse); var od = make(dense);
            for (int step = 0; step < 3; step++)
            {
                os.ZeroGrad(); od.ZeroGrad();
                dense.Grad ??= Tensor.Zeros(4, 17);
                for (int r = 3; r >= 0; r--) Touch(sparse, r, 0.3f * (r - 1.5f) + step);
                sparse.SparseGrad!.ToDense(4).CopyTo(dense.Grad.Data, 0);
                os.Step(); od.Step();
            }
            Assert.Equal(dense.ToArray(), sparse.ToArray());
        }
    }

    [Fact]
    public void DenseAndSparseGradientsOnOneTableAreAddedThenAppliedDensely()
    {
        var a = Table(new Rng(4), 3, 2);
        var b = a.Clone(); b.RequiresGrad = true; b.Name = "b";
        a.Grad = Tensor.FromArray([1, 1, 1, 1, 1, 1], 3, 2);
        Touch(a, 1, 2f);   // row 1 += [2, 4]
        b.Grad = Tensor.FromArray([1, 1, 3, 5, 1, 1], 3, 2);
        new Sgd([a], 0.5f).Step();
        new Sgd([b], 0.5f).Step();
        Assert.Equal(b.ToArray(), a.ToArray());
        Assert.Equal(0, a.SparseGrad!.Count);
    }

    [Fact]
    public void ParameterWithoutGradientIsSkipped()
    {
        var p = Tensor.Parameter("p", 3);
        p.Data[0] = 1;
        var opt = new Adam([p], weightDecay: 0.1f);
        opt.Step();
        Assert.Equal(1f, p.Data[0]);
        Assert.Equal(0, opt.States[0].Step);
    }

    [Fact]
    public void GroupsKeepTheirOwnRatesAndScaleFromInitial()
    {
        var a = Tensor.Parameter("a", 1); var b = Tensor.Parameter("b", 1);
        var opt = new Sgd([new ParamGroup([a], 0.1f), new ParamGroup([b], 1f)]);
        opt.ScaleLearningRates(0.5f);
        a.Grad = Tensor.Full(1f, 1); b.Grad = Tensor.Full(1f, 1);
        opt.Step();
        Assert.Equal(-0.05f, a.Data[0]);
        Assert.Equal(-0.5f, b.Data[0]);
        opt.LearningRate = 2f;
        opt.Step();
        Assert.Equal(-2.05f, a.Data[0]);
        Assert.Equal(2f, opt.Groups[1].LearningRate);
        Assert.Equal(1f, opt.Groups[1].InitialLearningRate);
    }

    [Fact]
    public void DuplicateParameterIsRejected()
    {
        var a = Tensor.Parameter("a", 2);
        var ex = Assert.Throws<ArgumentException>(() => new Adam([new ParamGroup([a], 0.1f), new ParamGroup([a], 0.2f)]));
        Assert.Contains("'a'", ex.Message);
    }

    [Fact]
    public void ClippingCountsSparseRowsLikeTheirDenseEquivalent()
    {
        var t = Table(new Rng(5), 6, 3);
        Touch(t, 4, 3f); Touch(t, 1, -2f);
        var w = Tensor.Parameter("w", 2);
        w.Grad = Tensor.FromArray([4f, -1f], 2);
        var dense = t.SparseGrad!.ToDense(6);
        double sq = 17;
        foreach (var x in dense) sq += x * x;
        float norm = GradientClipping.ClipByGlobalNorm([t, w], 1f);
        Assert.Equal((float)Math.Sqrt(sq), norm, 1e-4);
        Assert.Equal(1f, GradientClipping.GlobalNorm([t, w]), 1e-4);
        // below the limit nothing changes
        var before = w.Grad.ToArray();
        Assert.Equal(1f, GradientClipping.ClipByGlobalNorm([t, w], 10f), 1e-4);
        Assert.Equal(before, w.Grad.ToArray());
    }

    [Fact]
    public void VectorBodyAndScalarTailAgreeBitForBit()
    {
        // the same values placed in a vector lane and in the scalar tail must update identically
        var rng = new Rng(9);
        var p = new float[17]; var g = new float[17]; var m = new float[17]; var v = new float[17];
        for (int i = 0; i < 17; i++) { p[i] = (float)rng.NextNormal(); g[i] = (float)rng.NextNormal(); m[i] = 0.1f * g[i]; v[i] = g[i] * g[i]; }
        p[16] = p[3]; g[16] = g[3]; m[16] = m[3]; v[16] = v[3];
        Adam.Kernel(p, g, m, v, 0.9f, 0.999f, 0.01f, 0.999f, 0.01f, 1.2f, 1e-8f);
        Assert.Equal(p[3], p[16]);
        Assert.Equal(m[3], m[16]);
        Assert.Equal(v[3], v[16]);
    }

    [Fact]
    public void LazyAdamWDecaysOnlyTouchedRows()
    {
        var table = Table(new Rng(12), 3, 9);
        var before = table.ToArray();
        float lr = 0.1f, wd = 0.5f;
        var opt = new AdamW([table], lr, weightDecay: wd);
        Touch(table, 1, 0.3f);
        var g = table.SparseGrad!.Values(0).ToArray();
        opt.Step();
        double stepSize = lr * Math.Sqrt(1 - 0.999) / (1 - 0.9);   // SparseAdam's eps placement
        for (int j = 0; j < 9; j++)
        {
            Assert.Equal(before[j], table.Data[j]);
            Assert.Equal(before[18 + j], table.Data[18 + j]);
            double m = 0.1 * g[j], v = 0.001 * g[j] * g[j];
            double expected = before[9 + j] * (1 - lr * wd) - stepSize * m / (Math.Sqrt(v) + 1e-8);
            Assert.Equal(expected, table.Data[9 + j], 1e-5);
        }
    }
}
