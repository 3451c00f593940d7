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

    /// <summary>ReLU-like rows: a share of the positions zero in all 4 rows of a block (some as −0),
    /// other values zero in some rows only, the rest random.</summary>
    static float[] ReluLike(Random rng, int rows, int k, double blockZeroShare)
    {
        var a = Random(rng, rows * k);
        for (int i = 0; i < rows * k; i++) if (a[i] < 0) a[i] = 0;
        for (int block = 0; block < rows / 4; block++)
            for (int p = 0; p < k; p++)
                if (rng.NextDouble() < blockZeroShare)
                    for (int r = 0; r < 4; r++) a[(block * 4 + r) * k + p] = rng.Next(2) == 0 ? 0f : -0f;
        return a;
    }

    [Theory]
    [InlineData(100, 256, 256, 0.45)]  // DeepFM's second and third layers on a request
    [InlineData(8, 37, 112, 0.5)]      // k not a multiple of 8 (the scalar tail); 64 + 32 + 16 blocks
    [InlineData(12, 16, 48, 1.0)]      // every position zero: nothing to add
    [InlineData(4, 9, 16, 0.0)]        // none skipped
    public void SkippingAllZeroPositionsGivesTheDenseProductsValues(int rows, int k, int n, double blockZeroShare)
    {
        var rng = new Random(rows + k * 7 + n * 13);
        var a = ReluLike(rng, rows, k, blockZeroShare);
        var b = Random(rng, k * n);
        int blocks = rows / 4;
        var lists = new int[blocks * k];
        var counts = new int[blocks];
        var packedA = new float[rows * k];
        foreach (bool wide in new[] { true, false })
        {
            var panels = SmallMatMul.Pack(b, k, n, wide)!;
            var dense = new float[rows * n];
            var skipping = Enumerable.Repeat(float.NaN, rows * n).ToArray();   // every output must be written
            int total;
            fixed (float* pa = a, pp = panels, pd = dense, ps = skipping, pk = packedA)
            fixed (int* pl = lists, pc = counts)
            {
                SmallMatMul.RowsPacked(pa, rows, k, pp, n, pd, wide);
                total = SmallMatMul.ActivePositions(pa, rows, k, pl, pc, pk);
                SmallMatMul.RowsPackedActive(pk, rows, k, pp, n, ps, pl, pc, wide);
            }
            Assert.Equal(dense, skipping);   // equal values (a zero's sign aside: −0 equals 0)
            // the lists: exactly the positions where some row of the block is not ±0, in order; the packed values are theirs
            int expectedTotal = 0;
            for (int block = 0; block < blocks; block++)
            {
                var expected = Enumerable.Range(0, k).Where(p => Enumerable.Range(0, 4).Any(r => a[(block * 4 + r) * k + p] != 0)).ToArray();
                Assert.Equal(expected, lists.AsSpan(block * k, counts[block]).ToArray());
                for (int t = 0; t < expected.Length; t++)
                    for (int r = 0; r < 4; r++) Assert.Equal(a[(block * 4 + r) * k + expected[t]], packedA[block * 4 * k + 4 * t + r]);
                expectedTotal += expected.Length;
            }
            Assert.Equal(expectedTotal, total);
        }
    }

    [Fact]
    public void ANaNOrADenormalIsNotSkipped()
    {
        // Only ±0 may be left out: 0·w adds nothing, but NaN must reach the sum, and a denormal is a value.
        const int k = 16;
        var a = new float[4 * k];
        a[3] = float.NaN;
        a[k + 9] = float.Epsilon;
        a[2 * k + 14] = -0f;
        var lists = new int[k];
        var counts = new int[1];
        var packedA = new float[4 * k];
        fixed (float* pa = a, pk = packedA)
        fixed (int* pl = lists, pc = counts)
            SmallMatMul.ActivePositions(pa, 4, k, pl, pc, pk);
        Assert.Equal([3, 9], lists.AsSpan(0, counts[0]).ToArray());
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
