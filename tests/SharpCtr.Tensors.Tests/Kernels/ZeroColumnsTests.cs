using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors.Tests.Kernels;

/// <summary>The zero-column kernels against plain loops: the fused bias+ReLU pass and its live columns, the gathers, the scatter-add.</summary>
public class ZeroColumnsTests
{
    [Theory]
    [InlineData(1, 16, true)]
    [InlineData(64, 20, true)]     // one block of rows; a 4-lane tail
    [InlineData(65, 33, false)]    // a second block of one row; no bias
    [InlineData(1024, 256, true)]  // DeepFM's layer: blocks over the kernel threads
    public void BiasReluHasBiasActivationsBitsAndFindsTheNonzeroColumns(int rows, int cols, bool withBias)
    {
        var rng = new Random(rows + cols);
        var z = KernelTestUtil.Random(rng, rows * cols, 2f);
        var bias = withBias ? KernelTestUtil.Random(rng, cols) : [];
        // Planted: columns negative in every row (dead), a column whose only nonzero is in the last
        // row, one holding −0 and negatives (dead: −0 is zero), one with a NaN (live: NaN is not zero).
        int[] dead = [0, cols / 2, cols - 1];
        foreach (int c in dead) for (int r = 0; r < rows; r++) z[r * cols + c] = -5f - (withBias ? bias[c] : 0) - r;
        int lastRowOnly = 1, negativeZero = cols / 3 + 1, nan = cols - 2;
        for (int r = 0; r < rows; r++)
        {
            z[r * cols + lastRowOnly] = r == rows - 1 ? 3f : -3f - (withBias ? bias[lastRowOnly] : 0);
            z[r * cols + negativeZero] = -1f - (withBias ? bias[negativeZero] : 0);
        }
        if (!withBias) z[(rows - 1) * cols + negativeZero] = -0f;
        z[(rows / 2) * cols + nan] = float.NaN;

        var expected = new float[rows * cols];
        BiasActivation.Forward(z, bias, rows, cols, Activation.Relu, expected);
        var y = new float[rows * cols];
        var live = new int[cols];
        int count = ZeroColumns.BiasRelu(z, bias, rows, cols, y, live);
        for (int i = 0; i < y.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(y[i]), $"element {i}: {expected[i]:R} vs {y[i]:R}");
        var reference = Enumerable.Range(0, cols)
            .Where(c => Enumerable.Range(0, rows).Any(r => float.IsNaN(expected[r * cols + c]) || expected[r * cols + c] != 0)).ToArray();
        Assert.Equal(reference, live[..count]);
        Assert.Contains(lastRowOnly, live[..count]);
        Assert.Contains(nan, live[..count]);
        Assert.DoesNotContain(negativeZero, live[..count]);
        foreach (int c in dead) Assert.DoesNotContain(c, live[..count]);
    }

    [Theory]
    [InlineData(300, 37, 6)]      // packed rows shorter than a vector: every store masked
    [InlineData(300, 256, 177)]   // DeepFM's layer: full stores, then masked ones near each row's end
    [InlineData(7, 40, 40)]       // every column
    public void GathersPickTheListedColumnsAndRows(int rows, int cols, int keep)
    {
        var rng = new Random(cols + keep);
        var src = KernelTestUtil.Random(rng, rows * cols);
        var live = Enumerable.Range(0, cols).OrderBy(_ => rng.Next()).Take(keep).Order().ToArray();
        var columns = KernelTestUtil.Random(rng, rows * keep + 16);   // the 16 past the end must stay as they are
        var guard = columns[^16..];
        ZeroColumns.GatherColumns(src, rows, cols, live, keep, columns.AsSpan(0, rows * keep));
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < keep; j++) Assert.Equal(src[r * cols + live[j]], columns[r * keep + j]);
        Assert.Equal(guard, columns[^16..]);
        var picked = new float[keep * cols];
        ZeroColumns.GatherRows(src, rows, cols, live.Where(i => i < rows).ToArray(), live.Count(i => i < rows), picked.AsSpan(0, live.Count(i => i < rows) * cols));
        var rowList = live.Where(i => i < rows).ToArray();
        for (int i = 0; i < rowList.Length; i++)
            for (int c = 0; c < cols; c++) Assert.Equal(src[rowList[i] * cols + c], picked[i * cols + c]);
    }

    /// <summary>The compacted backward against BiasActivation's full backward followed by a gather: the same bits, the bias gradient included.</summary>
    [Theory]
    [InlineData(1, 20, 7, true)]
    [InlineData(33, 20, 20, false)]     // two row chunks; every column kept
    [InlineData(1024, 256, 177, true)]  // DeepFM's layer: chunks over the kernel threads
    [InlineData(40, 48, 0, true)]       // no live column: only the bias gradient
    public void ReluBackwardIsTheFullBackwardsLiveColumns(int rows, int cols, int keep, bool withBias)
    {
        var rng = new Random(rows * 7 + cols + keep);
        var z = KernelTestUtil.Random(rng, rows * cols, 2f);
        var bias = withBias ? KernelTestUtil.Random(rng, cols) : [];
        var dy = KernelTestUtil.Random(rng, rows * cols, 3f);
        var live = Enumerable.Range(0, cols).OrderBy(_ => rng.Next()).Take(keep).Order().ToArray();
        var dz = new float[rows * cols];
        var expectedDb = KernelTestUtil.Random(rng, cols);
        var db = (float[])expectedDb.Clone();
        BiasActivation.Backward(z, bias, [], dy, rows, cols, Activation.Relu, dz, expectedDb, overwriteDx: true);
        var dzLive = new float[rows * keep];
        ZeroColumns.ReluBackward(z, bias, dy, rows, cols, live, keep, dzLive, db);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < keep; j++)
                Assert.Equal(BitConverter.SingleToInt32Bits(dz[r * cols + live[j]]), BitConverter.SingleToInt32Bits(dzLive[r * keep + j]));
        for (int c = 0; c < cols; c++) Assert.Equal(BitConverter.SingleToInt32Bits(expectedDb[c]), BitConverter.SingleToInt32Bits(db[c]));
        // Without a bias gradient wanted: the same packed values.
        var alone = new float[rows * keep];
        ZeroColumns.ReluBackward(z, bias, dy, rows, cols, live, keep, alone, []);
        Assert.Equal(dzLive, alone);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void ScatterAddAddsEachBlockValueAtItsRowAndColumn(bool indexRows, bool indexCols)
    {
        var rng = new Random(2);
        int rows = 9, cols = 21;
        int[] rowIndex = indexRows ? [1, 2, 7] : [], colIndex = indexCols ? [0, 5, 6, 20] : [];
        int m = indexRows ? rowIndex.Length : rows, n = indexCols ? colIndex.Length : cols;
        var block = KernelTestUtil.Random(rng, m * n);
        var dst = KernelTestUtil.Random(rng, rows * cols);
        var expected = (float[])dst.Clone();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                expected[(indexRows ? rowIndex[i] : i) * cols + (indexCols ? colIndex[j] : j)] += block[i * n + j];
        ZeroColumns.ScatterAdd(block, rowIndex, m, colIndex, n, dst, rows, cols);
        Assert.Equal(expected, dst);
    }

    [Fact]
    public void RefusesIndicesOutOfRangeOrOutOfOrder()
    {
        var dst = new float[4 * 4];
        Assert.Throws<ArgumentException>(() => ZeroColumns.ScatterAdd(new float[2], [0, 4], 2, [], 1, new float[4], 4, 1));
        Assert.Throws<ArgumentException>(() => ZeroColumns.ScatterAdd(new float[8], [2, 1], 2, [], 4, dst, 4, 4));
        Assert.Throws<ArgumentException>(() => ZeroColumns.GatherColumns(dst, 4, 4, [1, 1], 2, new float[8]));
        Assert.Throws<ArgumentException>(() => ZeroColumns.GatherRows(dst, 4, 4, [-1], 1, new float[4]));
        Assert.Throws<ArgumentException>(() => ZeroColumns.BiasRelu(dst, [], 4, 4, dst, new int[3]));
    }

    [Theory]
    [InlineData(256, 256, false)]
    [InlineData(256, 225, false)]
    [InlineData(256, 224, true)]   // 32 of 256 zero: exactly 1/8
    [InlineData(16, 14, true)]
    [InlineData(16, 0, true)]
    public void SkipsWhenAnEighthOrMoreOfTheColumnsAreZero(int cols, int live, bool worth) =>
        Assert.Equal(worth, ZeroColumns.WorthSkipping(live, cols));
}
