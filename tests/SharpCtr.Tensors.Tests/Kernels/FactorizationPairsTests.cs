using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors.Tests.Kernels;

/// <summary>
/// The fused pairwise FM term against the definition, Σ_{i&lt;j} ⟨v_i, v_j⟩, in double loops; against
/// the six-op graph it replaced, bit for bit, forward and backward; and a finite-difference check.
/// </summary>
public class FactorizationPairsTests
{
    /// <summary>The graph models recorded before the fusion: ½·Σ_d[(Σ_f v)² − Σ_f v²].</summary>
    static Tensor SixOps(Tensor v)
    {
        var sum = Tensors.Ops.Sum(v, 1);
        var squareOfSum = Tensors.Ops.Mul(sum, sum);
        var sumOfSquares = Tensors.Ops.Sum(Tensors.Ops.Mul(v, v), 1);
        return Tensors.Ops.MulScalar(Tensors.Ops.Sum(Tensors.Ops.Sub(squareOfSum, sumOfSquares), 1), 0.5f);
    }

    static Tensor RandomV(int rows, int fields, int dim, int seed)
    {
        var rng = new Rng((ulong)seed);
        var v = Tensor.Parameter("v", rows, fields, dim);
        for (int i = 0; i < v.Size; i++) v.Data[i] = (float)rng.NextNormal();
        return v;
    }

    [Theory]
    [InlineData(64, 9, 16)]   // DeepFM on MovieLens-1M: 9 fields × 16
    [InlineData(1024, 9, 16)] // a training batch: rows split over the kernel threads
    [InlineData(3, 1, 16)]
    [InlineData(5, 4, 5)]
    [InlineData(4, 3, 33)]
    public void ForwardHasTheSixOpGraphsBits(int rows, int fields, int dim)
    {
        var v = RandomV(rows, fields, dim, rows + fields + dim);
        var fused = Tensors.Ops.FactorizationPairs(v).ToArray();
        var graph = SixOps(v).ToArray();
        for (int b = 0; b < rows; b++) Assert.Equal(BitConverter.SingleToInt32Bits(graph[b]), BitConverter.SingleToInt32Bits(fused[b]));
    }

    /// <summary>
    /// Backward from a random output gradient into v with no gradient yet, and into v holding one
    /// already (in DeepFM the MLP's gradient reaches v first): the same bits as the graph's.
    /// </summary>
    [Theory]
    [InlineData(64, 9, 16, false)]
    [InlineData(64, 9, 16, true)]
    [InlineData(1024, 9, 16, true)]   // rows split over the kernel threads
    [InlineData(5, 4, 5, true)]
    [InlineData(4, 3, 33, false)]
    [InlineData(4, 3, 33, true)]
    public void BackwardHasTheSixOpGraphsBits(int rows, int fields, int dim, bool existingGrad)
    {
        float[] Gradient(Func<Tensor, Tensor> f)
        {
            var v = RandomV(rows, fields, dim, 11);
            var rng = new Rng(5);
            if (existingGrad)
            {
                v.Grad = Tensor.Zeros(rows, fields, dim);
                for (int i = 0; i < v.Size; i++) v.Grad.Data[i] = (float)rng.NextNormal();
            }
            var g = Tensor.Zeros(rows);
            for (int i = 0; i < rows; i++) g.Data[i] = (float)(3 * rng.NextNormal());
            using var tape = Tape.Train();
            var y = f(v);
            y.Grad = g;
            tape.BackwardFrom(y);
            return v.Grad!.ToArray();
        }
        var fused = Gradient(Tensors.Ops.FactorizationPairs);
        var graph = Gradient(SixOps);
        for (int i = 0; i < fused.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(graph[i]) == BitConverter.SingleToInt32Bits(fused[i]), $"element {i}: graph {graph[i]:R}, fused {fused[i]:R}");
    }

    [Theory]
    [InlineData(3, 4, 5)]
    [InlineData(2, 3, 17)]
    public void GradientMatchesFiniteDifferences(int rows, int fields, int dim)
    {
        var v = RandomV(rows, fields, dim, 3);
        TestUtil.AssertGrad(() => Tensors.Ops.FactorizationPairs(v), v);
    }

    [Fact]
    public void RefusesAnInputThatIsNotBatchByFieldsByDim() =>
        Assert.Throws<ArgumentException>(() => Tensors.Ops.FactorizationPairs(Tensor.Zeros(4, 16)));

    [Theory]
    [InlineData(7, 13, 16)]
    [InlineData(3, 1, 16)]    // one field: no pairs, 0
    [InlineData(5, 4, 5)]     // dim below one vector
    [InlineData(4, 3, 33)]    // two full vectors and a 1-lane tail
    public void MatchesThePairsSummedOneByOne(int rows, int fields, int dim)
    {
        var rng = new Random(rows * 100 + fields * 10 + dim);
        var v = new float[rows * fields * dim];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        var y = new float[rows];
        FactorizationPairs.Forward(v, rows, fields, dim, y);
        for (int b = 0; b < rows; b++)
        {
            double expected = 0;
            for (int i = 0; i < fields; i++)
                for (int j = i + 1; j < fields; j++)
                    for (int d = 0; d < dim; d++)
                        expected += (double)v[(b * fields + i) * dim + d] * v[(b * fields + j) * dim + d];
            Assert.Equal(expected, y[b], 1e-4 * Math.Max(1, Math.Abs(expected)));
        }
    }

    [Fact]
    public void RefusesBuffersTooShortForTheShape()
    {
        Assert.Throws<ArgumentException>(() => FactorizationPairs.Forward(new float[10], 1, 2, 6, new float[1]));
        Assert.Throws<ArgumentException>(() => FactorizationPairs.Backward(new float[12], new float[1], 1, 2, 6, new float[10], accumulate: false));
    }
}
