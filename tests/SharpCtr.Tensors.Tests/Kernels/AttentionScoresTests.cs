using SharpCtr.Tensors.Kernels;
using static SharpCtr.Tensors.Tests.Kernels.KernelTestUtil;

namespace SharpCtr.Tensors.Tests.Kernels;

[Collection("KernelSettings")]
public class AttentionScoresTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FusedEqualsBatchedGemmThenSoftmax(bool managed)
    {
        int batch = 5, heads = 2, lq = 7, lk = 9, dim = 16;
        int items = batch * heads;
        var rng = new Random(managed ? 1 : 2);
        var q = Random(rng, items * lq * dim);
        var k = Random(rng, items * lk * dim);
        var keyPadding = new bool[batch * lk];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < lk; j++) keyPadding[b * lk + j] = j < (b == 0 ? 0 : 1 + b); // batch 0 fully padded
        float scale = 1f / MathF.Sqrt(dim);
        bool saved = Gemm.ForceManaged;
        Gemm.ForceManaged = managed;
        try
        {
            var expected = new float[items * lq * lk];
            Gemm.SgemmStridedBatched(false, true, lq, lk, dim, scale, q, dim, lq * dim, k, dim, lk * dim, 0f, expected, lk, lq * lk, items);
            Softmax.Forward(expected, items * lq, lk, expected, keyPadding, heads * lq);
            foreach (int threads in new[] { 1, 2 })
            {
                var fused = new float[items * lq * lk];
                WithThreads(threads, () => AttentionScores.Forward(q, k, items, lq, lk, dim, scale, fused, keyPadding, heads * lq));
                AssertBitIdentical(expected, fused, $"threads={threads}");
            }
            Assert.All(expected.AsSpan(0, heads * lq * lk).ToArray(), v => Assert.Equal(0f, v));
        }
        finally { Gemm.ForceManaged = saved; }
    }
}
