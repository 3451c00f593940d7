using SharpCtr.Tensors.Kernels;
using SharpCtr.Tensors.Nn;
using static SharpCtr.Tensors.Tests.Kernels.KernelTestUtil;
using O = SharpCtr.Tensors.Ops;

namespace SharpCtr.Tensors.Tests.Kernels;

/// <summary>
/// The training-path kernels against plain loops in double: pooled embedding bags (forward, dense
/// and sparse backward), Dice with batch statistics (forward, dx, dα), and the same bits on 1 or
/// 2 threads. Random shapes include odd widths and row counts past one chunk.
/// </summary>
[Collection("KernelSettings")]
public class TrainingPathTests
{
    [Theory]
    [InlineData(1, 7, 5)]
    [InlineData(16, 33, 50)]
    [InlineData(7, 12, 3)]
    [InlineData(40, 9, 8)]
    [InlineData(16, 300, 50)]   // ≥ 4,096 positions: forward split over the threads, backward in two halves
    [InlineData(1, 200, 40)]
    public void EmbeddingBagMatchesPlainLoops(int dim, int rows, int width)
    {
        var rng = new Random(dim * 131 + rows);
        int vocab = 23;
        var ids = new int[rows * width];
        var lengths = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            lengths[r] = rng.Next(width + 1);
            for (int l = 0; l < lengths[r]; l++) ids[r * width + l] = rng.Next(vocab);   // repeats and padding (0) inside the bag
        }
        var gy = Random(rng, rows * dim);
        foreach (bool mean in new[] { true, false })
            foreach (bool sparse in new[] { true, false })
            {
                var table = Tensor.Parameter("t", vocab, dim);
                Random(rng, vocab * dim).CopyTo(table.Data, 0);
                if (sparse) table.SparseGrad = new SparseRowGrad(vocab, dim);
                float[] y, grad;
                using (var tape = Tape.Train())
                {
                    var bag = O.EmbeddingBag(table, ids, rows, width, lengths, mean);
                    y = bag.ToArray();
                    bag.GradBufferForWrite(out _);
                    gy.CopyTo(bag.Grad!.Data, 0);
                    tape.BackwardFrom(bag);
                    grad = sparse ? table.SparseGrad!.ToDense(vocab) : table.Grad!.ToArray();
                }
                var refY = new double[rows * dim];
                var refG = new double[vocab * dim];
                for (int r = 0; r < rows; r++)
                {
                    double scale = mean && lengths[r] > 0 ? 1.0 / lengths[r] : 1.0;
                    for (int l = 0; l < lengths[r]; l++)
                    {
                        int id = ids[r * width + l];
                        if (id == 0) continue;
                        for (int j = 0; j < dim; j++)
                        {
                            refY[r * dim + j] += table.Data[id * dim + j] * scale;
                            refG[id * dim + j] += gy[r * dim + j] * scale;
                        }
                    }
                }
                AssertClose(Array.ConvertAll(refY, v => (float)v), y, 1e-5, 1e-5, $"bag forward (mean {mean}, sparse {sparse})");
                AssertClose(Array.ConvertAll(refG, v => (float)v), grad, 1e-5, 1e-5, $"bag gradient (mean {mean}, sparse {sparse})");
            }
    }

    [Theory]
    [InlineData(16, 100)]
    [InlineData(5, 100)]
    [InlineData(16, 400)]   // ≥ 4,096 positions: forward and backward split over the threads
    [InlineData(3, 400)]
    [InlineData(1, 400)]    // a first-order (width-1) table: the scalar path
    public void SparseBagBackwardGivesTheSameBitsOnOneAndTwoThreads(int dim, int rows)
    {
        var rng = new Random(dim);
        int width = 20, vocab = 300;   // several blocks of 64 slots
        var ids = new int[rows * width]; var lengths = new int[rows];
        for (int r = 0; r < rows; r++) { lengths[r] = rng.Next(width + 1); for (int l = 0; l < width; l++) ids[r * width + l] = rng.Next(vocab); }
        var gy = Random(rng, rows * dim);
        var one = SparseBag(1, vocab, dim, ids, rows, width, lengths, mean: true, gy);
        var two = SparseBag(2, vocab, dim, ids, rows, width, lengths, mean: true, gy);
        Assert.Equal(one[0], two[0]);
        Assert.Equal(one[1], two[1]);   // touched rows in the same first-touch order
        Assert.Equal(one[2], two[2]);   // the pooled rows too
        Assert.Contains(one[0], v => v != 0);
    }

    /// <summary>Pooled lookup into a fresh sparse-gradient table and its backward from <paramref name="gy"/>
    /// on <paramref name="threads"/> threads: [dense gradient, touched rows in order, pooled output].</summary>
    static float[][] SparseBag(int threads, int vocab, int dim, int[] ids, int rows, int width, int[] lengths, bool mean, float[] gy) =>
        OnThreads<float[][]>(threads, () =>
        {
            var table = Tensor.Parameter("t", vocab, dim);
            table.SparseGrad = new SparseRowGrad(vocab, dim);
            using var tape = Tape.Train();
            var y = O.EmbeddingBag(table, ids, rows, width, lengths, mean);
            y.GradBufferForWrite(out _);
            gy.CopyTo(y.Grad!.Data, 0);
            tape.BackwardFrom(y);
            return [table.SparseGrad.ToDense(vocab), [.. table.SparseGrad.Rows.ToArray().Select(v => (float)v)], y.ToArray()];
        });

    [Fact]
    public void SplitBagBackwardWhoseSecondHalfBringsMostRows()
    {
        // The first half of the bags touches 50 rows of a large table, the second (one bag longer)
        // 4,040 other rows, each once: the merge appends them all, so the capacity must cover both
        // halves, not what the first half's positions could touch.
        var rng = new Random(5);
        const int rows = 201, width = 40, vocab = 100_000, dim = 16;
        var ids = new int[rows * width]; var lengths = new int[rows];
        for (int r = 0, fresh = 1000; r < rows; r++)
        {
            lengths[r] = width;
            for (int l = 0; l < width; l++) ids[r * width + l] = r < rows / 2 ? 1 + rng.Next(50) : fresh++;
        }
        var gy = Random(rng, rows * dim);
        foreach (int threads in new[] { 1, 2 })
        {
            var dense = SparseBag(threads, vocab, dim, ids, rows, width, lengths, mean: false, gy)[0];
            var expected = new double[vocab * dim];
            for (int r = 0; r < rows; r++)
                for (int l = 0; l < width; l++)
                    for (int j = 0; j < dim; j++) expected[ids[r * width + l] * dim + j] += gy[r * dim + j];
            AssertClose(Array.ConvertAll(expected, v => (float)v), dense, 1e-5, 1e-5, $"split bag gradient, {threads} thread(s)");
        }
    }

    [Theory]
    [InlineData(false, 9)]
    [InlineData(true, 300)]
    public void EmbeddingConcatEqualsLookupsThenConcat(bool sparse, int n)
    {
        var rng = new Random(n);
        int[] dims = [16, 5, 1];
        int vocab = 17;
        var ids = new int[dims.Length][];
        for (int t = 0; t < dims.Length; t++) { ids[t] = new int[n + 2]; for (int i = 0; i < ids[t].Length; i++) ids[t][i] = rng.Next(vocab); }   // extra ids past n are ignored
        var gy = Random(rng, n * 22);
        (float[] Y, float[][] G) Run(bool fused)
        {
            var tables = new Tensor[dims.Length];
            var init = new Random(5);
            for (int t = 0; t < dims.Length; t++)
            {
                tables[t] = Tensor.Parameter("t" + t, vocab, dims[t]);
                Random(init, vocab * dims[t]).CopyTo(tables[t].Data, 0);
                if (sparse) tables[t].SparseGrad = new SparseRowGrad(vocab, dims[t]);
            }
            using var tape = Tape.Train();
            var y = fused ? O.EmbeddingConcat(tables, ids, n)
                : O.Concat([.. Enumerable.Range(0, dims.Length).Select(t => O.Embedding(tables[t], ids[t], [n], paddingIdx: 0))], 1);
            var values = y.ToArray();
            y.GradBufferForWrite(out _);
            gy.CopyTo(y.Grad!.Data, 0);
            tape.BackwardFrom(y);
            return (values, [.. tables.Select(t => sparse ? t.SparseGrad!.ToDense(vocab) : t.Grad!.ToArray())]);
        }
        var fused = Run(true); var reference = Run(false);
        Assert.Equal(reference.Y, fused.Y);
        for (int t = 0; t < dims.Length; t++) Assert.Equal(reference.G[t], fused.G[t]);
        if (!sparse)
        {
            var a = TestUtil.Randn(new Rng(1), vocab, 3); var b = TestUtil.Randn(new Rng(2), vocab, 2);
            TestUtil.AssertGrad(() => O.EmbeddingConcat([a, b], [ids[0], ids[1]], n), a, b);
        }
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(3, 16)]
    [InlineData(300, 37)]
    [InlineData(1000, 64)]
    public void DiceTrainingMatchesPlainReference(int n, int d)
    {
        var rng = new Random(n * 17 + d);
        var x = Tensor.FromArray(Random(rng, n * d, 2f), n, d);
        var gy = Random(rng, n * d);
        var dice = new Dice(d);
        Random(rng, d, 0.5f).CopyTo(dice.Alpha.Data, 0);
        var (y, gx, ga) = DiceStep(dice, x, gy);

        double[] mean = new double[d], inv = new double[d];
        for (int j = 0; j < d; j++)
        {
            double s = 0, v = 0;
            for (int i = 0; i < n; i++) s += x.Data[i * d + j];
            mean[j] = s / n;
            for (int i = 0; i < n; i++) v += Math.Pow(x.Data[i * d + j] - mean[j], 2);
            inv[j] = 1 / Math.Sqrt(v / n + dice.Eps);
        }
        var refY = new float[n * d]; var refGx = new float[n * d]; var refGa = new float[d];
        for (int j = 0; j < d; j++)
        {
            double a = dice.Alpha.Data[j], sumDn = 0, sumDnN = 0, sumGa = 0;
            var dn = new double[n]; var nrm = new double[n]; var p = new double[n];
            for (int i = 0; i < n; i++)
            {
                double xv = x.Data[i * d + j], g = gy[i * d + j];
                nrm[i] = (xv - mean[j]) * inv[j];
                p[i] = 1 / (1 + Math.Exp(-nrm[i]));
                refY[i * d + j] = (float)(xv * (a + p[i] * (1 - a)));
                dn[i] = g * xv * (1 - a) * p[i] * (1 - p[i]);
                sumDn += dn[i]; sumDnN += dn[i] * nrm[i]; sumGa += g * xv * (1 - p[i]);
            }
            refGa[j] = (float)sumGa;
            for (int i = 0; i < n; i++)
                refGx[i * d + j] = (float)(gy[i * d + j] * (a + p[i] * (1 - a)) + inv[j] * (dn[i] - sumDn / n - nrm[i] * sumDnN / n));
        }
        AssertClose(refY, y, 1e-4, 1e-4, "Dice y");
        // One row: the batch variance is 0 and invStd is 1e4 — dx is cancellation noise of that size.
        if (n > 1) AssertClose(refGx, gx, 2e-3, 2e-3, "Dice dx");
        AssertClose(refGa, ga, 1e-3, 1e-3, "Dice dα");
    }

    [Fact]
    public void DiceAndBatchStatisticsGiveTheSameBitsOnOneAndTwoThreads()
    {
        var rng = new Random(3);
        int n = 1000, d = 37;
        var x = Tensor.FromArray(Random(rng, n * d, 2f), n, d);
        var gy = Random(rng, n * d);
        (float[], float[], float[]) Run(int threads) => OnThreads(threads, () =>
        {
            var dice = new Dice(d);
            Array.Fill(dice.Alpha.Data, 0.25f);
            return DiceStep(dice, x, gy);
        });
        var one = Run(1); var two = Run(2);
        Assert.Equal(one.Item1, two.Item1);
        Assert.Equal(one.Item2, two.Item2);
        Assert.Equal(one.Item3, two.Item3);
    }

    [Fact]
    public void SegmentPoolingAndAxisSumGiveTheSameBitsOnOneAndTwoThreads()
    {
        float[][] Run(int threads) => OnThreads<float[][]>(threads, () =>
        {
            var rng = new Rng(4);
            int[] offsets = [0, 3, 3, 10, 17, 18];
            var x = TestUtil.Randn(rng, 20, 7); var w = TestUtil.Randn(rng, 20); var v = TestUtil.Randn(rng, 5, 3, 7);
            x.RequiresGrad = w.RequiresGrad = v.RequiresGrad = true;
            using var tape = Tape.Train();
            var pooled = O.SegmentWeightedSum(x, w, offsets);
            var y = O.Add(O.Mul(pooled, pooled), O.Sum(v, 1));
            tape.Backward(O.Sum(O.Mul(O.Sum(y, 1), O.Sum(y, 1))));
            return [pooled.ToArray(), x.Grad!.ToArray(), w.Grad!.ToArray(), v.Grad!.ToArray()];
        });
        var one = Run(1); var two = Run(2);
        for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], two[i]);
        Assert.Contains(one[1], g => g != 0);
    }

    [Fact]
    public void GradientsAccumulateWhenAnInputIsUsedTwice()
    {
        var rng = new Rng(11);
        var x = TestUtil.Randn(rng, 5, 3); var w = TestUtil.Randn(rng, 3, 4); var v = TestUtil.Randn(rng, 3, 4);
        TestUtil.AssertGrad(() => O.Add(O.MatMul(x, w), O.MatMul(x, v)), x, w, v);
        TestUtil.AssertGrad(() => O.MatMul(x, x, transB: true), x);
        TestUtil.AssertGrad(() => O.Concat([x, O.Reshape(x, 5, 3), x], 1), x);   // one tensor in several parts: written once, then added
        var lin = new Linear(3, 6, rng);
        TestUtil.AssertGrad(() => O.Add(lin.Forward(x, SharpCtr.Tensors.Kernels.Activation.Tanh), lin.Forward(x, SharpCtr.Tensors.Kernels.Activation.Relu)), x, lin.Weight, lin.Bias!);
    }

    [Theory]
    [InlineData(3, 5, 6, 2)]      // odd widths
    [InlineData(40, 32, 64, 7)]   // DIN's widths, padding rows past the last sample
    public void ActivationUnitInputMatchesPlainLoopsAndGradients(int samples, int k, int h, int paddingRows)
    {
        var rng = new Random(samples + k);
        var offsets = new int[samples + 1];
        for (int s = 0; s < samples; s++) offsets[s + 1] = offsets[s] + rng.Next(4);   // some samples without history
        int n = offsets[^1] + paddingRows;
        var rowSample = new int[n];
        for (int s = 0; s < samples; s++) for (int r = offsets[s]; r < offsets[s + 1]; r++) rowSample[r] = s;
        Tensor P(params int[] shape) { var t = Tensor.FromArray(Random(rng, Tensor.SizeOf(shape)), shape); t.RequiresGrad = true; return t; }
        var keys = P(n, k); var query = P(samples, k); var wk = P(k, h); var wp = P(k, h); var qp = P(samples, h);
        var gy = Random(rng, n * h);

        float[] y; float[][] grads;
        using (var tape = Tape.Train())
        {
            var t = O.ActivationUnitInput(keys, query, rowSample, offsets, wk, wp, qp);
            y = t.ToArray();
            t.GradBufferForWrite(out _);
            gy.CopyTo(t.Grad!.Data, 0);
            tape.BackwardFrom(t);
            grads = [keys.Grad!.ToArray(), query.Grad!.ToArray(), wk.Grad!.ToArray(), wp.Grad!.ToArray(), qp.Grad!.ToArray()];
        }
        var refY = new double[n * h];
        var refG = new[] { new double[n * k], new double[samples * k], new double[k * h], new double[k * h], new double[samples * h] };
        for (int r = 0; r < n; r++)
        {
            int s = rowSample[r];
            for (int o = 0; o < h; o++)
            {
                double acc = qp.Data[s * h + o], g = gy[r * h + o];
                refG[4][s * h + o] += g;
                for (int j = 0; j < k; j++)
                {
                    double kv = keys.Data[r * k + j], qv = query.Data[s * k + j];
                    acc += kv * wk.Data[j * h + o] + kv * qv * wp.Data[j * h + o];
                    refG[0][r * k + j] += g * (wk.Data[j * h + o] + qv * wp.Data[j * h + o]);
                    refG[1][s * k + j] += g * kv * wp.Data[j * h + o];
                    refG[2][j * h + o] += g * kv;
                    refG[3][j * h + o] += g * kv * qv;
                }
                refY[r * h + o] = acc;
            }
        }
        AssertClose(Array.ConvertAll(refY, v => (float)v), y, 1e-4, 1e-4, "unit input");
        string[] names = ["dkeys", "dquery", "dWk", "dWp", "dqueryProj"];
        for (int i = 0; i < names.Length; i++) AssertClose(Array.ConvertAll(refG[i], v => (float)v), grads[i], 1e-3, 1e-4, names[i]);

        if (n > offsets[^1] && offsets[^1] > 0)
        {
            var wrong = (int[])rowSample.Clone();
            wrong[0] = (wrong[0] + 1) % samples;
            Assert.Throws<ArgumentException>(() => O.ActivationUnitInput(keys, query, wrong, offsets, wk, wp, qp));
        }
        if (n <= 12)
        {
            foreach (var t in new[] { keys, query, wk, wp, qp }) t.Grad = null;
            TestUtil.AssertGrad(() => O.ActivationUnitInput(keys, query, rowSample, offsets, wk, wp, qp), keys, query, wk, wp, qp);
        }
    }

    [Fact]
    public void ActivationUnitInputGivesTheSameBitsOnOneAndTwoThreads()
    {
        float[][] Run(int threads) => OnThreads<float[][]>(threads, () =>
        {
            var rng = new Random(9);
            int samples = 50, k = 32, h = 64;
            var offsets = new int[samples + 1];
            for (int s = 0; s < samples; s++) offsets[s + 1] = offsets[s] + rng.Next(6);
            int n = offsets[^1] + 3;
            var rowSample = new int[n];
            for (int s = 0; s < samples; s++) for (int r = offsets[s]; r < offsets[s + 1]; r++) rowSample[r] = s;
            Tensor P(params int[] shape) { var t = Tensor.FromArray(Random(rng, Tensor.SizeOf(shape)), shape); t.RequiresGrad = true; return t; }
            var keys = P(n, k); var query = P(samples, k); var wk = P(k, h); var wp = P(k, h); var qp = P(samples, h);
            using var tape = Tape.Train();
            var y = O.ActivationUnitInput(keys, query, rowSample, offsets, wk, wp, qp);
            tape.Backward(O.Sum(O.Mul(y, y)));
            return [keys.Grad!.ToArray(), query.Grad!.ToArray(), wk.Grad!.ToArray(), qp.Grad!.ToArray()];
        });
        var one = Run(1); var two = Run(2);
        for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], two[i]);
    }

    /// <summary>Runs f with the kernels allowed <paramref name="threads"/> threads, and splitting even the smallest work.</summary>
    static T OnThreads<T>(int threads, Func<T> f)
    {
        int saved = KernelThreads.Max, savedMin = KernelThreads.MinParallelElements;
        KernelThreads.Max = threads;
        KernelThreads.MinParallelElements = 1;
        try { return f(); }
        finally { KernelThreads.Max = saved; KernelThreads.MinParallelElements = savedMin; }
    }

    /// <summary>One recorded Dice forward (batch statistics) and backward from gy: y, dx, dα.</summary>
    static (float[] Y, float[] Gx, float[] Ga) DiceStep(Dice dice, Tensor x, float[] gy)
    {
        var xp = Tensor.FromArray(x.ToArray(), x.Shape);
        xp.RequiresGrad = true;
        using var tape = Tape.Train();
        var y = dice.Forward(xp);
        y.GradBufferForWrite(out _);
        gy.CopyTo(y.Grad!.Data, 0);
        tape.BackwardFrom(y);
        return (y.ToArray(), xp.Grad!.ToArray(), dice.Alpha.Grad!.ToArray());
    }
}
