using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors.Tests.Kernels;

/// <summary>The fused pairwise FM term against the definition, Σ_{i&lt;j} ⟨v_i, v_j⟩, in double loops.</summary>
public class FactorizationPairsTests
{
    [Theory]
    [InlineData(7, 13, 16)]   // DeepFM on MovieLens-1M: 13 fields × 16
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
    public void RefusesBuffersTooShortForTheShape() =>
        Assert.Throws<ArgumentException>(() => FactorizationPairs.Forward(new float[10], 1, 2, 6, new float[1]));
}
