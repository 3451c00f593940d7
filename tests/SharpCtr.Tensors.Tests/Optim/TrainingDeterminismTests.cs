using SharpCtr.Tensors.Optim;

namespace SharpCtr.Tensors.Tests.Optim;

/// <summary>
/// Same seed → bit-identical parameters after N steps of a small MLP (matmul, bias add, relu,
/// binary cross-entropy with logits written as softplus(z) - y·z), with AdamW and clipping,
/// and the same whether kernels may use 1 or 2 threads.
/// </summary>
[Collection("KernelSettings")]
public class TrainingDeterminismTests
{
    static (float[][] Params, float FirstLoss, float LastLoss) Train(ulong seed, int threads,
        int Features = 8, int Hidden = 32, int Batch = 64, int Samples = 256, int Steps = 24)
    {
        int saved = SharpCtr.Tensors.Kernels.KernelThreads.Max;
        SharpCtr.Tensors.Kernels.KernelThreads.Max = threads;
        try
        {
            var rng = new Rng(seed);
            var x = TestUtil.Randn(rng, Samples, Features);
            var y = Tensor.Zeros(Samples, 1);
            for (int i = 0; i < Samples; i++) y.Data[i] = x.Data[i * Features] + 0.5f * x.Data[i * Features + 1] > 0 ? 1f : 0f;

            var w1 = Tensor.Parameter("w1", Features, Hidden);
            var b1 = Tensor.Parameter("b1", Hidden);
            var w2 = Tensor.Parameter("w2", Hidden, 1);
            var b2 = Tensor.Parameter("b2", 1);
            foreach (var w in new[] { w1, w2 }) for (int i = 0; i < w.Size; i++) w.Data[i] = (float)(rng.NextNormal() * Math.Sqrt(1.0 / w.Shape[0]));
            Tensor[] ps = [w1, b1, w2, b2];
            var opt = new AdamW([new ParamGroup([w1, w2], 0.05f, 2.5e-4f), new ParamGroup([b1, b2], 0.05f, 0f)]);

            var order = new int[Samples];
            for (int i = 0; i < Samples; i++) order[i] = i;
            var xb = Tensor.Zeros(Batch, Features);
            var yb = Tensor.Zeros(Batch, 1);
            float first = 0, last = 0;
            for (int step = 0; step < Steps; step++)
            {
                int start = step * Batch % Samples;
                if (start == 0) rng.Shuffle(order.AsSpan());
                for (int r = 0; r < Batch; r++)
                {
                    int src = order[start + r];
                    x.Data.AsSpan(src * Features, Features).CopyTo(xb.Data.AsSpan(r * Features));
                    yb.Data[r] = y.Data[src];
                }
                opt.ZeroGrad();
                using (var tape = Tape.Train())
                {
                    var h = Tensors.Ops.Relu(Tensors.Ops.Add(Tensors.Ops.MatMul(xb, w1), b1));
                    var z = Tensors.Ops.Add(Tensors.Ops.MatMul(h, w2), b2);
                    var loss = Tensors.Ops.Mean(Tensors.Ops.Sub(Tensors.Ops.Softplus(z), Tensors.Ops.Mul(yb, z)));
                    tape.Backward(loss);
                    last = loss.ToScalar();
                    if (step == 0) first = last;
                }
                GradientClipping.ClipByGlobalNorm(ps, 5f);
                opt.Step();
            }
            return (ps.Select(p => p.ToArray()).ToArray(), first, last);
        }
        finally { SharpCtr.Tensors.Kernels.KernelThreads.Max = saved; }
    }

    static void AssertBitIdentical(float[][] a, float[][] b)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.Equal(a[i].Select(BitConverter.SingleToInt32Bits), b[i].Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void SameSeedGivesBitIdenticalParameters()
    {
        var a = Train(42, 1);
        var b = Train(42, 1);
        AssertBitIdentical(a.Params, b.Params);
        Assert.True(a.LastLoss < 0.7f * a.FirstLoss, $"training did not learn: loss {a.FirstLoss} → {a.LastLoss}");
        var c = Train(43, 1);
        Assert.NotEqual(a.Params[0], c.Params[0]);
    }

    [Fact]
    public void OneAndTwoThreadsGiveBitIdenticalParameters()
    {
        AssertBitIdentical(Train(7, 1).Params, Train(7, 2).Params);
    }

    /// <summary>Products large enough to be split over threads, in both directions: X·W1 is
    /// 512×128·128×512 and W1's gradient Xᵀ·dH is 128×512·512×512 (m &lt; n, the shape whose
    /// column cut changed OpenBLAS's bits).</summary>
    [Fact]
    public void OneAndTwoThreadsGiveBitIdenticalParametersWhenProductsAreSplit()
    {
        var one = Train(7, 1, Features: 128, Hidden: 512, Batch: 512, Samples: 1024, Steps: 4);
        var two = Train(7, 2, Features: 128, Hidden: 512, Batch: 512, Samples: 1024, Steps: 4);
        AssertBitIdentical(one.Params, two.Params);
    }

    [Fact]
    public void LargeTensorUpdateSplitAcrossThreadsIsBitIdentical()
    {
        float[] RunAdam(int threads)
        {
            int saved = SharpCtr.Tensors.Kernels.KernelThreads.Max;
            SharpCtr.Tensors.Kernels.KernelThreads.Max = threads;
            try
            {
                var rng = new Rng(5);
                var p = TestUtil.Randn(rng, 300, 333);   // 99,900 elements: split into chunks when threads > 1
                p.RequiresGrad = true; p.Name = "p";
                p.Grad = TestUtil.Randn(rng, 300, 333);
                var opt = new Adam([p], 0.01f, weightDecay: 0.1f);
                for (int s = 0; s < 3; s++) opt.Step();
                return p.ToArray();
            }
            finally { SharpCtr.Tensors.Kernels.KernelThreads.Max = saved; }
        }
        var one = RunAdam(1);
        var two = RunAdam(2);
        var three = RunAdam(3);
        Assert.Equal(one.Select(BitConverter.SingleToInt32Bits), two.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(one.Select(BitConverter.SingleToInt32Bits), three.Select(BitConverter.SingleToInt32Bits));
    }

    /// <summary>
    /// A lazy update of many touched rows splits the row list over the kernel threads: the same
    /// bits as one thread, and untouched rows stay as they were.
    /// </summary>
    [Fact]
    public void LargeSparseRowUpdateSplitAcrossThreadsIsBitIdentical()
    {
        const int vocab = 6000, dim = 16;
        (float[] Params, float[] Untouched) RunLazyAdam(int threads)
        {
            int saved = SharpCtr.Tensors.Kernels.KernelThreads.Max;
            SharpCtr.Tensors.Kernels.KernelThreads.Max = threads;
            try
            {
                var rng = new Rng(9);
                var p = TestUtil.Randn(rng, vocab, dim);
                p.RequiresGrad = true; p.Name = "table";
                p.SparseGrad = new SparseRowGrad(vocab, dim);
                var untouched = p.Data.AsSpan(0, dim).ToArray();
                var opt = new Adam([p], 0.01f, weightDecay: 0.1f);
                for (int s = 0; s < 3; s++)
                {
                    for (int row = 1 + s; row < vocab; row += 2)   // ~3,000 rows of 16: split when threads > 1
                    {
                        var g = p.SparseGrad.Slot(row);
                        for (int j = 0; j < dim; j++) g[j] = (float)rng.NextNormal();
                    }
                    opt.Step();
                    p.SparseGrad.Clear();
                }
                return (p.ToArray(), untouched);
            }
            finally { SharpCtr.Tensors.Kernels.KernelThreads.Max = saved; }
        }
        var one = RunLazyAdam(1);
        var two = RunLazyAdam(2);
        Assert.Equal(one.Params.Select(BitConverter.SingleToInt32Bits), two.Params.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(one.Untouched, one.Params.AsSpan(0, dim).ToArray());   // row 0 is never touched
    }
}
