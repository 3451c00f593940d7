using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors.Tests.Ops;

/// <summary>
/// The ReLU layer op that leaves zero columns out of its products: against the same op with the
/// plain products (bit for bit on the managed GEMM, which accumulates in k order while K ≤ 128),
/// against the three-op graph relu(x·W + b), against finite differences, and at the edges (no
/// live unit, no live input, gradients already in place, leading axes).
/// </summary>
public class LinearReluTests
{
    /// <summary>
    /// Two ReLU layers, x0 → h (in → mid) → y (mid → out), with units planted dead by a bias of
    /// −100: the first layer's <paramref name="deadMid"/> units (zero columns of h, so of the
    /// second layer's input) and the second layer's <paramref name="deadOut"/> units.
    /// </summary>
    sealed class TwoLayers
    {
        public readonly Tensor X0, W1, B1, W2, B2;

        public TwoLayers(int rows, int inDim, int mid, int outDim, int deadMid, int deadOut, int seed, bool positive = false)
        {
            var rng = new Rng((ulong)seed);
            X0 = Param("x0", rng, positive, rows, inDim);
            W1 = Param("w1", rng, positive, inDim, mid);
            B1 = Param("b1", rng, positive, mid);
            W2 = Param("w2", rng, positive, mid, outDim);
            B2 = Param("b2", rng, positive, outDim);
            // Dead units spread over the columns, the last one included (a vector tail when the width is not a multiple of 16).
            for (int i = 0; i < deadMid; i++) B1.Data[mid - 1 - i * mid / Math.Max(1, deadMid)] = -100f;
            for (int i = 0; i < deadOut; i++) B2.Data[outDim - 1 - i * outDim / Math.Max(1, deadOut)] = -100f;
        }

        static Tensor Param(string name, Rng rng, bool positive, params int[] shape)
        {
            var t = Tensor.Parameter(name, shape);
            for (int i = 0; i < t.Size; i++) t.Data[i] = positive ? 0.1f + 0.4f * rng.NextFloat() : (float)rng.NextNormal() * 0.5f;
            return t;
        }

        public Tensor[] All => [X0, W1, B1, W2, B2];

        public Tensor Forward(bool skip) =>
            Tensors.Ops.LinearRelu(Tensors.Ops.LinearRelu(X0, W1, B1, null, out var live, skip), W2, B2, live, out _, skip);

        /// <summary>The output and every gradient, from a fixed output gradient, as one array each.</summary>
        public float[][] Run(Func<Tensor> forward, bool existingGrads)
        {
            var rng = new Rng(99);
            foreach (var p in All)
            {
                p.Grad = null;
                if (!existingGrads) continue;
                p.Grad = Tensor.Zeros(p.Shape);
                for (int i = 0; i < p.Size; i++) p.Grad.Data[i] = (float)rng.NextNormal();
            }
            using var tape = Tape.Train();
            var y = forward();
            y.Grad = Tensor.Zeros(y.Shape);
            for (int i = 0; i < y.Size; i++) y.Grad.Data[i] = (float)rng.NextNormal();
            tape.BackwardFrom(y);
            return [y.ToArray(), .. All.Select(p => p.Grad!.ToArray())];
        }
    }

    static void AssertBits(float[][] expected, float[][] actual)
    {
        string[] names = ["y", "x0", "w1", "b1", "w2", "b2"];
        for (int t = 0; t < expected.Length; t++)
            for (int i = 0; i < expected[t].Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[t][i]) == BitConverter.SingleToInt32Bits(actual[t][i]),
                    $"{names[t]}[{i}]: plain {expected[t][i]:R}, skipping {actual[t][i]:R}");
    }

    [Theory]
    [InlineData(64, 20, 48, 40, 12, 10, false)]
    [InlineData(64, 20, 48, 40, 12, 10, true)]     // gradients already in place: added to
    [InlineData(300, 17, 100, 33, 30, 9, false)]   // rows over the kernel threads; tails of 4 and 1 lanes
    [InlineData(5, 8, 16, 16, 2, 2, true)]         // exactly the 1/8 threshold
    [InlineData(3, 8, 16, 16, 16, 16, false)]      // every unit dead: no live column at all
    [InlineData(7, 8, 32, 24, 0, 0, false)]        // nothing dead: the plain products
    public void SkippingZeroColumnsKeepsThePlainProductsBits(int rows, int inDim, int mid, int outDim, int deadMid, int deadOut, bool existingGrads)
    {
        bool saved = Gemm.ForceManaged;
        Gemm.ForceManaged = true;
        try
        {
            var net = new TwoLayers(rows, inDim, mid, outDim, deadMid, deadOut, rows + mid);
            var plain = net.Run(() => net.Forward(skip: false), existingGrads);
            var skipping = net.Run(() => net.Forward(skip: true), existingGrads);
            AssertBits(plain, skipping);
        }
        finally { Gemm.ForceManaged = saved; }
    }

    /// <summary>On whichever GEMM this machine dispatches (OpenBLAS when installed) and at DeepFM's width.</summary>
    [Fact]
    public void SkippingMatchesThePlainProductsOnTheDispatchedGemm()
    {
        var net = new TwoLayers(1024, 144, 256, 256, 80, 70, 3);
        var plain = net.Run(() => net.Forward(skip: false), existingGrads: false);
        var skipping = net.Run(() => net.Forward(skip: true), existingGrads: false);
        for (int t = 0; t < plain.Length; t++) TestUtil.AssertClose(plain[t], skipping[t], 1e-5f);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MatchesTheThreeOpGraph(bool existingGrads)
    {
        var net = new TwoLayers(40, 12, 36, 20, 9, 6, 5);
        Tensor Graph() => Tensors.Ops.Relu(Tensors.Ops.Add(Tensors.Ops.MatMul(
            Tensors.Ops.Relu(Tensors.Ops.Add(Tensors.Ops.MatMul(net.X0, net.W1), net.B1)), net.W2), net.B2));
        var graph = net.Run(Graph, existingGrads);
        var op = net.Run(() => net.Forward(skip: true), existingGrads);
        for (int t = 0; t < graph.Length; t++) TestUtil.AssertClose(graph[t], op[t], 1e-5f);
    }

    /// <summary>Positive inputs and weights keep every live pre-activation well above the kink; dead ones sit at −100.</summary>
    [Fact]
    public void GradientMatchesFiniteDifferences()
    {
        var net = new TwoLayers(4, 5, 16, 9, 4, 3, 7, positive: true);
        for (int j = 0; j < 16; j++) if (net.B1.Data[j] > -50) net.B1.Data[j] = 0.5f;
        TestUtil.AssertGrad(() => net.Forward(skip: true), net.All);
    }

    [Fact]
    public void TheOutputsLiveColumnsAreItsNonzeroColumns()
    {
        var net = new TwoLayers(30, 6, 40, 8, 11, 0, 9);
        using var tape = Tape.Inference();
        var h = Tensors.Ops.LinearRelu(net.X0, net.W1, net.B1, null, out var live);
        var expected = Enumerable.Range(0, 40).Where(c => Enumerable.Range(0, 30).Any(r => h.Data[r * 40 + c] != 0)).ToArray();
        Assert.Equal(40, live.Total);
        Assert.Equal(expected, live.Indices.ToArray());
        Assert.Equal(29, expected.Length);
        Assert.True(live.WorthSkipping);
    }

    [Fact]
    public void LeadingAxesFoldIntoRows()
    {
        var rng = new Rng(4);
        var x = TestUtil.Randn(rng, 2, 3, 8);
        var w = TestUtil.Randn(rng, 8, 16);
        var b = TestUtil.Randn(rng, 16);
        for (int j = 0; j < 6; j++) b.Data[j] = -100f;
        var y = Tensors.Ops.LinearRelu(x, w, b);
        Assert.Equal([2, 3, 16], y.Shape);
        var flat = Tensors.Ops.LinearRelu(Tensor.FromArray(x.ToArray(), 6, 8), w, b);
        Assert.Equal(flat.ToArray(), y.ToArray());
    }

    [Fact]
    public void AnInputWithoutAGradientGetsNone()
    {
        var net = new TwoLayers(6, 4, 16, 8, 4, 2, 1);
        net.X0.RequiresGrad = false;
        net.X0.Grad = null;
        using var tape = Tape.Train();
        var y = Tensors.Ops.LinearRelu(net.X0, net.W1, net.B1);
        tape.Backward(Tensors.Ops.Sum(y));
        Assert.Null(net.X0.Grad);
        Assert.NotNull(net.W1.Grad);
        // The dead units' weights and bias get exactly zero.
        for (int j = 0; j < 16; j++)
            if (net.B1.Data[j] < -50)
            {
                Assert.Equal(0f, net.B1.Grad!.Data[j]);
                for (int i = 0; i < 4; i++) Assert.Equal(0f, net.W1.Grad.Data[i * 16 + j]);
            }
    }

    [Fact]
    public void RefusesMismatchedShapes()
    {
        var x = Tensor.Zeros(3, 4);
        Assert.Throws<ArgumentException>(() => Tensors.Ops.LinearRelu(x, Tensor.Zeros(5, 2), null));
        Assert.Throws<ArgumentException>(() => Tensors.Ops.LinearRelu(x, Tensor.Zeros(4, 2, 1), null));
        Assert.Throws<ArgumentException>(() => Tensors.Ops.LinearRelu(x, Tensor.Zeros(4, 2), Tensor.Zeros(3)));
        Tensors.Ops.LinearRelu(Tensor.Zeros(3, 2), Tensor.Zeros(2, 5), null, null, out var live);
        var wrongWidth = Assert.Throws<ArgumentException>(() => Tensors.Ops.LinearRelu(x, Tensor.Zeros(4, 2), null, live, out _));
        Assert.Contains("live columns", wrongWidth.Message);
    }
}
