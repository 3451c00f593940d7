using SharpCtr.Tensors.Tests.Kernels;
using O = SharpCtr.Tensors.Ops;

namespace SharpCtr.Tensors.Tests.Ops;

/// <summary>
/// The embedding lookup's parallel gather and sparse scatter (large lookups summed in two halves of
/// positions, one per thread) against a plain reference, and bit-identical for 1 and 2 threads.
/// </summary>
public class EmbeddingScatterTests
{
    /// <summary>Lookup + backward from a random gradient; returns (output, touched rows, dense gradient).</summary>
    static (float[] Y, int[] Rows, float[] Grad) Run(Tensor table, int[] ids, int n, int paddingIdx, float[] gy, int threads)
    {
        int vocab = table.Shape[0], dim = table.Shape[1];
        table.RequiresGrad = true;
        table.SparseGrad = new SparseRowGrad(vocab, dim);
        float[] y = [];
        KernelTestUtil.WithThreads(threads, () =>
        {
            using var tape = Tape.Train();
            var e = O.Embedding(table, ids, [n], paddingIdx);
            y = e.ToArray();
            e.Grad = Tensor.FromArray(gy, n, dim);
            tape.BackwardFrom(e);
        });
        return (y, table.SparseGrad.Rows.ToArray(), table.SparseGrad.ToDense(vocab));
    }

    /// <summary>
    /// grad[ids[i]] += gy[i] one float at a time in position order; a large lookup (≥ SplitElements
    /// floats) sums its second half of positions on its own and adds that sum afterwards.
    /// </summary>
    static void ReferenceScatter(float[] grad, int[] ids, int n, int dim, int paddingIdx, float[] gy)
    {
        int half = (long)n * dim >= SparseRowGrad.SplitElements ? n / 2 : n;
        var second = new float[grad.Length];
        for (int i = 0; i < n; i++)
        {
            if (ids[i] == paddingIdx) continue;
            var sum = i < half ? grad : second;
            for (int j = 0; j < dim; j++) sum[ids[i] * dim + j] += gy[i * dim + j];
        }
        for (int k = 0; k < grad.Length; k++) grad[k] += second[k];
    }

    [Theory]
    [InlineData(50, 16, 3000, -1)]
    [InlineData(37, 17, 2001, 0)]     // odd width (vector tail), padding id
    [InlineData(300, 3, 5000, 7)]     // narrow rows, slots spread over several 64-slot blocks
    [InlineData(5, 33, 999, 2)]       // few rows: heavy duplicates
    [InlineData(200, 8, 1, -1)]       // a single id
    [InlineData(300, 16, 5000, -1)]   // large: summed in two halves
    [InlineData(300, 16, 6000, 4)]    // large, the 16-wide fast path with padding ids
    [InlineData(37, 17, 4001, 0)]     // large, odd count and width, padding id
    [InlineData(5, 33, 2100, 2)]      // large, few rows: every row in both halves
    [InlineData(4000, 4, 20000, 3)]   // large, rows first touched in the second half
    [InlineData(4000, 16, 20000, 5)]  // large, the 16-wide merge of nearly every row
    [InlineData(2000, 9, 20000, 1)]   // large, the merge of odd-width rows
    [InlineData(300, 1, 5000, 7)]     // width 1 (a first-order table): scalar moves
    [InlineData(4000, 1, 20000, 3)]   // large width 1: two halves and the scalar merge
    public void MatchesPlainReferenceOnOneAndTwoThreads(int vocab, int dim, int n, int paddingIdx)
    {
        var rng = new Random(vocab * 31 + dim);
        var table = Tensor.FromArray(KernelTestUtil.Random(rng, vocab * dim), vocab, dim);
        var ids = new int[n + 3];                 // ids beyond n are ignored
        for (int i = 0; i < ids.Length; i++) ids[i] = rng.Next(vocab);
        if (paddingIdx >= 0) for (int i = 0; i < n; i += 5) ids[i] = paddingIdx;
        var gy = KernelTestUtil.Random(rng, n * dim);

        // Plain reference: rows copied one float at a time, touched rows listed in first-touch order.
        var refY = new float[n * dim];
        var refRows = new List<int>();
        var seen = new bool[vocab];
        for (int i = 0; i < n; i++)
        {
            int id = ids[i];
            if (id == paddingIdx) continue;
            for (int j = 0; j < dim; j++) refY[i * dim + j] = table.Data[id * dim + j];
            if (!seen[id]) { seen[id] = true; refRows.Add(id); }
        }
        var refGrad = new float[vocab * dim];
        ReferenceScatter(refGrad, ids, n, dim, paddingIdx, gy);

        var one = Run(table, ids, n, paddingIdx, gy, threads: 1);
        var two = Run(table, ids, n, paddingIdx, gy, threads: 2);
        KernelTestUtil.AssertBitIdentical(refY, one.Y, "output, 1 thread");
        KernelTestUtil.AssertBitIdentical(refY, two.Y, "output, 2 threads");
        KernelTestUtil.AssertBitIdentical(refGrad, one.Grad, "gradient, 1 thread");
        KernelTestUtil.AssertBitIdentical(refGrad, two.Grad, "gradient, 2 threads");
        Assert.Equal(refRows, one.Rows);
        Assert.Equal(refRows, two.Rows);
    }

    [Theory]
    [InlineData(700)]
    [InlineData(20000)]   // large: the first half adds onto rows the other lookup touched
    public void SecondLookupAddsToRowsTheFirstTouched(int n)
    {
        var rng = new Random(3);
        const int vocab = 90, dim = 5;
        var table = Tensor.FromArray(KernelTestUtil.Random(rng, vocab * dim), vocab, dim);
        table.RequiresGrad = true;
        var ids1 = new int[n];
        var ids2 = new int[n];
        for (int i = 0; i < n; i++) { ids1[i] = rng.Next(vocab / 2); ids2[i] = rng.Next(vocab); }
        var g1 = KernelTestUtil.Random(rng, n * dim);
        var g2 = KernelTestUtil.Random(rng, n * dim);
        // Backward runs the second lookup's step first, so its rows are added first.
        var expected = new float[vocab * dim];
        ReferenceScatter(expected, ids2, n, dim, -1, g2);
        ReferenceScatter(expected, ids1, n, dim, -1, g1);
        foreach (int threads in new[] { 1, 2 })
        {
            table.SparseGrad = new SparseRowGrad(vocab, dim);
            KernelTestUtil.WithThreads(threads, () =>
            {
                using var tape = Tape.Train();
                var e1 = O.Embedding(table, ids1, [n]);
                var e2 = O.Embedding(table, ids2, [n]);
                e1.Grad = Tensor.FromArray(g1, n, dim);
                e2.Grad = Tensor.FromArray(g2, n, dim);
                tape.BackwardFrom(e2);
            });
            KernelTestUtil.AssertBitIdentical(expected, table.SparseGrad.ToDense(vocab), $"two lookups, {threads} thread(s)");
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(9)]
    public void ClearedSlotsAreReusedWithoutTheirOldSums(int dim)
    {
        // A cleared gradient keeps its slot memory: the next step's merge must overwrite a slot
        // it creates, never add onto what an earlier step left there.
        var rng = new Random(dim);
        const int vocab = 3000, n = 20000;
        var table = Tensor.FromArray(KernelTestUtil.Random(rng, vocab * dim), vocab, dim);
        table.RequiresGrad = true;
        foreach (int threads in new[] { 1, 2 })
        {
            table.SparseGrad = new SparseRowGrad(vocab, dim);
            float[] expected = [];
            for (int step = 0; step < 3; step++)
            {
                var ids = new int[n];
                // Step 0 touches the upper rows first; later steps the lower ones in the first half,
                // so the second half brings new rows whose slots the earlier step filled.
                for (int i = 0; i < n; i++) ids[i] = step == 0 ? vocab - 1 - rng.Next(vocab) : (i < n / 2 ? rng.Next(vocab / 3) : rng.Next(vocab));
                var gy = KernelTestUtil.Random(rng, n * dim);
                expected = new float[vocab * dim];
                ReferenceScatter(expected, ids, n, dim, -1, gy);
                table.SparseGrad.Clear();
                KernelTestUtil.WithThreads(threads, () =>
                {
                    using var tape = Tape.Train();
                    var e = O.Embedding(table, ids, [n]);
                    e.Grad = Tensor.FromArray(gy, n, dim);
                    tape.BackwardFrom(e);
                });
                KernelTestUtil.AssertBitIdentical(expected, table.SparseGrad.ToDense(vocab), $"step {step}, {threads} thread(s)");
            }
        }
    }

    [Fact]
    public void EmptyIdsGiveAnEmptyOutputAndNoGradientRows()
    {
        var table = Tensor.FromArray(new float[12], 4, 3);
        table.RequiresGrad = true;
        table.SparseGrad = new SparseRowGrad(4, 3);
        using var tape = Tape.Train();
        var e = O.Embedding(table, [], [0]);
        Assert.Equal([0, 3], e.Shape);
        e.Grad = Tensor.Zeros(0, 3);
        tape.BackwardFrom(e);
        Assert.Equal(0, table.SparseGrad.Count);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(16)]   // the 16-wide fast path checks ids too
    public void IdOutsideTheTableIsRejectedWithItsPosition(int dim)
    {
        var table = Tensor.Zeros(10, dim);
        var ids = new int[200];
        ids[123] = 10;
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => O.Embedding(table, ids, [200]));
        Assert.Contains("position 123", ex.Message);
        ids[123] = -1;
        Assert.Throws<ArgumentOutOfRangeException>(() => O.Embedding(table, ids, [200]));
    }

    [Theory]
    [InlineData(1)]    // a first-order table: the scalar sum checks ids as it goes
    [InlineData(16)]   // the register sum checks ids as it goes
    [InlineData(20)]   // wider rows: a checking pass first
    public void BagIdOutsideTheTableIsRejectedWithItsBag(int dim)
    {
        var table = Tensor.Zeros(10, dim);
        const int rows = 300, width = 50;   // ≥ 4,096 positions: bags split over the threads
        var ids = new int[rows * width];
        var lengths = new int[rows];
        Array.Fill(lengths, width);
        ids[217 * width + 31] = 10;
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => O.EmbeddingBag(table, ids, rows, width, lengths, mean: true));
        Assert.Contains("id 10 in bag 217", ex.Message);
        ids[217 * width + 31] = -3;
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => O.EmbeddingBag(table, ids, rows, width, lengths, mean: true));
        Assert.Contains("id -3 in bag 217", ex.Message);
        lengths[217] = 31;   // past the bag's length the id is not read
        O.EmbeddingBag(table, ids, rows, width, lengths, mean: true);
    }
}
