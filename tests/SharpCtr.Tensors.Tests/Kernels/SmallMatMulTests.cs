using SharpCtr.Tensors.Kernels;
using SharpCtr.Tensors.Nn;
using Activation = SharpCtr.Tensors.Nn.Activation;
using static SharpCtr.Tensors.Tests.Kernels.KernelTestUtil;

namespace SharpCtr.Tensors.Tests.Kernels;

/// <summary>
/// The packed-weight product against the unpacked one, and the AVX-512 blocks against the 256-bit
/// strips (same bits: all sum p in order with one FMA per step), and a plain double loop; and the
/// freeze life cycle that creates the packed weights.
/// </summary>
[Collection("KernelSettings")]
public unsafe class SmallMatMulTests
{
    [Theory]
    [InlineData(4, 7, 16)]      // one 4-row group, a lone 16-wide block
    [InlineData(8, 32, 48)]     // 32 + 16 blocks
    [InlineData(12, 33, 64)]    // two 6-row groups, nothing left for the 4-row kernel
    [InlineData(32, 32, 64)]    // an attention tile: 4 six-row groups + 2 four-row groups
    [InlineData(52, 208, 256)]  // one thread's half of a request through a wide layer
    [InlineData(100, 256, 112)] // 64 + 32 + 16
    [InlineData(100, 1, 80)]    // k = 1
    public void PackedProductEqualsTheUnpackedOneBitForBit(int rows, int k, int n)
    {
        var rng = new Random(rows * 1000 + k * 10 + n);
        var a = Random(rng, rows * k);
        var b = Random(rng, k * n);
        var plain = new float[rows * n];
        var fromPanels = new float[rows * n];
        var plain256 = new float[rows * n];
        var fromPanels256 = new float[rows * n];
        var packed = SmallMatMul.Pack(b, k, n, wide: true)!;
        var packed256 = SmallMatMul.Pack(b, k, n, wide: false)!;   // the 256-bit strips' 16-wide panels (CPUs without AVX-512)
        fixed (float* pa = a, pb = b, pp = packed, pp256 = packed256, c1 = plain, c2 = fromPanels, c3 = plain256, c4 = fromPanels256)
        {
            SmallMatMul.Rows4(pa, rows, k, pb, n, c1, wide: true);
            SmallMatMul.RowsPacked(pa, rows, k, pp, n, c2, wide: true);
            SmallMatMul.Rows4(pa, rows, k, pb, n, c3, wide: false);
            SmallMatMul.RowsPacked(pa, rows, k, pp256, n, c4, wide: false);
        }
        Assert.Equal(plain, fromPanels);
        Assert.Equal(plain, plain256);
        Assert.Equal(plain, fromPanels256);
        var reference = new double[rows * n];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double)a[i * k + p] * b[p * n + j];
                reference[i * n + j] = s;
            }
        AssertClose(reference, fromPanels, 1e-4, 1e-4, $"rows={rows} k={k} n={n}");
    }

    [Fact]
    public void PackKeepsEveryWeightOnceAndRefusesWidthsTheKernelsDoNotTake()
    {
        var b = Enumerable.Range(0, 5 * 112).Select(i => (float)i).ToArray();
        var packed = SmallMatMul.Pack(b, 5, 112, wide: true)!;
        Assert.Equal(b.OrderBy(v => v), packed.OrderBy(v => v));
        Assert.Equal(b[1 * 112 + 64], packed[5 * 64 + 1 * 32]);   // row 1 of the 32-wide block that starts at column 64
        packed = SmallMatMul.Pack(b, 5, 112, wide: false)!;
        Assert.Equal(b.OrderBy(v => v), packed.OrderBy(v => v));
        Assert.Equal(b[1 * 112 + 64], packed[5 * 64 + 1 * 16]);   // row 1 of the 16-wide strip that starts at column 64
        Assert.Null(SmallMatMul.Pack(b, 8, 70));
    }

    [Fact]
    public void FreezePacksLinearWeightsAndTrainOrEvalDropsThem()
    {
        var mlp = new Mlp(40, [64, 32], new Rng(5), Activation.Relu, outputDim: 1);
        var x = Tensor.FromArray(Random(new Random(6), 37 * 40), 37, 40);
        mlp.Eval();
        float[] unfrozen, frozen;
        using (Tape.Inference()) unfrozen = mlp.Forward(x).Data.AsSpan(0, 37).ToArray();
        mlp.Freeze();
        Assert.False(mlp.Training);
        Assert.All(mlp.Layers, l => Assert.NotNull(l.Panels));
        Assert.Null(mlp.Output!.Panels);   // one output column: not a width the kernels pack
        using (Tape.Inference()) frozen = mlp.Forward(x).Data.AsSpan(0, 37).ToArray();
        Assert.Equal(unfrozen, frozen);

        // A weight written after Eval must be what the next forward uses: Eval (like Train) drops the copies.
        mlp.Eval();
        Assert.All(mlp.Layers, l => Assert.Null(l.Panels));
        mlp.Layers[0].Weight.Data[0] += 1f;
        float[] changed;
        using (Tape.Inference()) changed = mlp.Forward(x).Data.AsSpan(0, 37).ToArray();
        Assert.NotEqual(unfrozen, changed);
        mlp.Freeze();
        using (Tape.Inference()) Assert.Equal(changed, mlp.Forward(x).Data.AsSpan(0, 37).ToArray());
        mlp.Train();
        Assert.All(mlp.Layers, l => Assert.Null(l.Panels));
    }

    [Fact]
    public void AFrozenLayerWhoseWeightsAreOverwrittenDropsItsPackedCopy()
    {
        var mlp = new Mlp(40, [64, 32], new Rng(7), Activation.Relu, outputDim: 1);
        var x = Tensor.FromArray(Random(new Random(8), 37 * 40), 37, 40);
        mlp.Freeze();
        Assert.NotNull(mlp.Layers[0].Panels);
        // a promise broken the usual way: new weights loaded over the frozen ones without Eval
        var fresh = Random(new Random(9), 40 * 64, 0.1f);
        fresh.CopyTo(mlp.Layers[0].Weight.Data, 0);
        Assert.Null(mlp.Layers[0].Panels);
        float[] afterWrite;
        using (Tape.Inference()) afterWrite = mlp.Forward(x).Data.AsSpan(0, 37).ToArray();
        mlp.Eval();
        using (Tape.Inference()) Assert.Equal(mlp.Forward(x).Data.AsSpan(0, 37).ToArray(), afterWrite);
    }
}
