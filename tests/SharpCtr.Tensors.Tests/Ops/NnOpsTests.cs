using SharpCtr.Tensors;
using static SharpCtr.Tensors.Tests.TestUtil;
using O = SharpCtr.Tensors.Ops;

namespace SharpCtr.Tensors.Tests.Ops;

public class NnOpsTests
{
    readonly Rng rng = new(7);

    [Fact]
    public void SoftmaxValuesGradientsAndMasks()
    {
        var x = Tensor.FromArray([1, 2, 3, 0, 0, 0], 2, 3);
        AssertClose([0.09003057f, 0.24472847f, 0.66524096f, 1 / 3f, 1 / 3f, 1 / 3f], O.Softmax(x).Span);
        AssertClose([-2.4076059f, -1.4076059f, -0.4076059f], O.LogSoftmax(Tensor.FromArray([1, 2, 3], 1, 3)).Span);
        var mask = Tensor.FromArray([1, 1, 0, 0, 0, 0], 2, 3);
        var p = O.Softmax(x, mask);
        AssertClose([0.26894142f, 0.7310586f, 0, 0, 0, 0], p.Span); // second row fully masked → zeros, not NaN

        var r = Randn(rng, 2, 3, 5);
        var m = Tensor.FromArray([1, 1, 1, 0, 0, 1, 0, 1, 1, 1], 2, 1, 5); // broadcast over the middle axis
        AssertGrad(() => O.Softmax(r), r);
        AssertGrad(() => O.Softmax(r, m), r);
        AssertGrad(() => O.LogSoftmax(r), r);
        AssertGrad(() => O.LogSoftmax(r, m), r);
    }

    [Fact]
    public void NormsGradientsAndValues()
    {
        var x = Randn(rng, 4, 6);
        var g = Uniform(rng, 0.5f, 1.5f, 6);
        var b = Randn(rng, 6);
        AssertGrad(() => O.LayerNorm(x, g, b), x, g, b);
        AssertGrad(() => O.RmsNorm(x, g), x, g);
        var row = Tensor.FromArray([1, 2, 3, 4], 1, 4);
        // mean 2.5, var 1.25 → (x−2.5)/sqrt(1.25+1e-5)
        AssertClose([-1.3416355f, -0.4472118f, 0.4472118f, 1.3416355f], O.LayerNorm(row, null, null).Span);
        // rms = sqrt(30/4) = 2.7386128
        AssertClose([0.36514837f, 0.73029674f, 1.0954451f, 1.4605935f], O.RmsNorm(row, null).Span);
    }

    [Fact]
    public void EmbeddingDenseAndSparseGradients()
    {
        var table = Randn(rng, 5, 3);
        int[] ids = [1, 3, 1, 0, 4, 2];
        AssertGrad(() => O.Embedding(table, ids, [2, 3]), table);
        AssertGrad(() => O.Embedding(table, ids, [2, 3], paddingIdx: 0), table);
        var sparse = Randn(rng, 5, 3);
        sparse.SparseGrad = new SparseRowGrad(5, 3);
        AssertGrad(() => O.Embedding(sparse, ids, [6], paddingIdx: 0), sparse);
        Assert.Equal([1, 3, 4, 2], sparse.SparseGrad.Rows.ToArray()); // padding row 0 untouched
        var e = O.Embedding(table, ids, [6], paddingIdx: 0);
        Assert.Equal(new float[3], e.Span.Slice(9, 3).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => O.Embedding(table, [7], [1]));
        // plain reference: every looked-up row equals the table row (the fast gather copies in 8-wide vectors)
        var wide = Randn(rng, 6, 19);
        int[] wideIds = [5, 0, 2, 2, 4];
        var gathered = O.Embedding(wide, wideIds, [5]);
        for (int i = 0; i < wideIds.Length; i++)
            for (int j = 0; j < 19; j++) Assert.Equal(wide[wideIds[i], j], gathered[i, j]);
        AssertGrad(() => O.Embedding(wide, wideIds, [5], paddingIdx: 0), wide);

        var rowsOf = Randn(rng, 4, 3, 2);
        AssertGrad(() => O.IndexSelect(rowsOf, [3, 0, 3, 1]), rowsOf);   // repeats accumulate
        Assert.Equal(rowsOf[3, 2, 1], O.IndexSelect(rowsOf, [3, 0])[0, 2, 1]);
        var splitMe = Randn(rng, 2, 5);
        AssertGrad(() => { var parts = O.Split(splitMe, 1, 2, 3); return O.Concat([O.MulScalar(parts[0], 2f), parts[1]], 1); }, splitMe);

        // bags: [[1, 3, 0], [4, 0, 0], [0, 0, 0]] with lengths 2, 1, 0
        int[] bag = [1, 3, 0, 4, 0, 0, 0, 0, 0];
        int[] lens = [2, 1, 0];
        AssertGrad(() => O.EmbeddingBag(table, bag, 3, 3, lens, mean: true), table);
        AssertGrad(() => O.EmbeddingBag(sparse, bag, 3, 3, lens, mean: false), sparse);
        var bagMean = O.EmbeddingBag(table, bag, 3, 3, lens, mean: true);
        var reference = O.MaskedMean(O.Embedding(table, bag, [3, 3], paddingIdx: 0), Tensor.FromArray([1, 1, 0, 1, 0, 0, 0, 0, 0], 3, 3));
        AssertClose(reference.Span, bagMean.Span, 1e-6f);
    }

    [Fact]
    public void PoolingWhereFillDropoutPRelu()
    {
        var x = Randn(rng, 2, 4, 3);
        var mask = Tensor.FromArray([1, 1, 0, 0, 0, 0, 0, 0], 2, 4);
        AssertGrad(() => O.MaskedSum(x, mask), x);
        AssertGrad(() => O.MaskedMean(x, mask), x);
        var mean = O.MaskedMean(x, mask);
        for (int d = 0; d < 3; d++) Assert.Equal((x[0, 0, d] + x[0, 1, d]) / 2, mean[0, d], 1e-6);
        Assert.Equal(new float[3], mean.Span.Slice(3, 3).ToArray()); // empty history → zeros

        var packed = Randn(rng, 5, 3); var pw = Randn(rng, 5);
        int[] offs = [0, 2, 2, 5];   // segments of 2, 0 and 3 rows
        AssertGrad(() => O.SegmentWeightedSum(packed, pw, offs), packed, pw);
        var seg = O.SegmentWeightedSum(packed, pw, offs);
        Assert.Equal(new float[3], seg.Span.Slice(3, 3).ToArray());
        Assert.Equal(pw[2] * packed[2, 1] + pw[3] * packed[3, 1] + pw[4] * packed[4, 1], seg[2, 1], 1e-5);
        // Through a row map: 5 weighted rows read 3 shared rows (rows used twice get both gradients).
        var shared = Randn(rng, 3, 3);
        int[] rowOf = [0, 2, 0, 1, 2];
        AssertGrad(() => O.SegmentWeightedSum(shared, pw, offs, rowOf), shared, pw);
        var viaMap = O.SegmentWeightedSum(shared, pw, offs, rowOf);
        Assert.Equal(pw[2] * shared[0, 1] + pw[3] * shared[1, 1] + pw[4] * shared[2, 1], viaMap[2, 1], 1e-5);
        Assert.Throws<ArgumentException>(() => O.SegmentWeightedSum(shared, pw, offs, [0, 2, 0, 3, 2]));

        var a = Randn(rng, 2, 4); var b = Randn(rng, 2, 4);
        var cond = Tensor.FromArray([1, 0, 1, 0, 0, 0, 1, 1], 2, 4);
        AssertGrad(() => O.Where(cond, a, b), a, b);
        AssertGrad(() => O.MaskedFill(a, Tensor.FromArray([1, 0, 0, 1], 4), -5f), a);
        Assert.Equal(-5f, O.MaskedFill(a, Tensor.FromArray([1, 0, 0, 1], 4), -5f)[1, 3]);

        var big = Tensor.Full(1f, 10000);
        var dropped = O.Dropout(big, 0.3f, new Rng(1));
        int zeros = dropped.ToArray().Count(v => v == 0);
        Assert.InRange(zeros, 2700, 3300);
        Assert.All(dropped.ToArray(), v => Assert.True(v == 0 || MathF.Abs(v - 1 / 0.7f) < 1e-6));
        var small = Randn(rng, 3, 4);
        AssertGrad(() => O.Dropout(small, 0.5f, new Rng(3)), small);

        var px = Tensor.FromArray([-2f, -0.5f, 0.7f, 1.5f, -1.2f, 0.3f], 2, 3);
        var alpha = Tensor.FromArray([0.1f, 0.2f, 0.3f], 3);
        AssertGrad(() => O.PRelu(px, alpha), px, alpha);
        Assert.Equal(-0.2f, O.PRelu(px, alpha)[0, 0], 1e-6);
    }

    [Fact]
    public void LossesMatchHandComputedValuesAndGradients()
    {
        var logits = Tensor.FromArray([0f, 2f, -1f], 3);
        var labels = Tensor.FromArray([1f, 0f, 1f], 3);
        // (log 2 + (2 + log(1+e^-2)) + log(1+e^1)) / 3
        float expected = (MathF.Log(2) + 2 + MathF.Log(1 + MathF.Exp(-2)) + MathF.Log(1 + MathF.E)) / 3;
        Assert.Equal(expected, O.BceWithLogits(logits, labels).ToScalar(), 1e-5);
        var l = Randn(rng, 5);
        AssertGrad(() => O.BceWithLogits(l, labels.Size == 5 ? labels : Tensor.FromArray([1, 0, 1, 1, 0], 5)), l);

        var ce = Tensor.FromArray([1, 2, 3, 1, 1, 1], 2, 3);
        // row 0 target 2: −log softmax = 0.4076059; row 1 ignored
        Assert.Equal(0.4076059f, O.CrossEntropy(ce, [2, -100]).ToScalar(), 1e-5);
        var cl = Randn(rng, 4, 5);
        AssertGrad(() => O.CrossEntropy(cl, [0, 4, -100, 2]), cl);

        var a = Randn(rng, 3, 2); var b = Randn(rng, 3, 2);
        AssertGrad(() => O.Mse(a, b), a, b);
        Assert.Equal(2.5f, O.Mse(Tensor.FromArray([1, 2], 2), Tensor.FromArray([0, 4], 2)).ToScalar(), 1e-6);
    }

    [Fact]
    public void TopKAndArgmax()
    {
        var x = Tensor.FromArray([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], 2, 6);
        var (v, i) = O.TopK(x, 3);
        // rows [3,1,4,1,5,9] and [2,6,5,3,5,8]; the tie between the two 5s keeps the earlier one
        Assert.Equal([9f, 5, 4, 8, 6, 5], v);
        Assert.Equal([5, 4, 2, 5, 1, 2], i);
        Assert.Equal([5, 5], O.Argmax(x));
        var ties = Tensor.FromArray([2, 7, 7, 1], 1, 4);
        Assert.Equal([1], O.Argmax(ties));
    }
}
