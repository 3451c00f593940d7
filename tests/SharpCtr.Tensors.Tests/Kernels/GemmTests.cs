using SharpCtr.Tensors.Kernels;
using static SharpCtr.Tensors.Tests.Kernels.KernelTestUtil;

namespace SharpCtr.Tensors.Tests.Kernels;

[Collection("KernelSettings")]
public class GemmTests
{
    /// <summary>Plain triple loop in double: C = alpha·op(A)·op(B) + beta·C.</summary>
    private static double[] Reference(bool ta, bool tb, int m, int n, int k, float alpha, float[] a, int lda, float[] b, int ldb,
        float beta, float[] c, int ldc, long offA = 0, long offB = 0, long offC = 0)
    {
        var r = new double[c.Length];
        for (int i = 0; i < c.Length; i++) r[i] = c[i];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double acc = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = ta ? a[offA + (long)p * lda + i] : a[offA + (long)i * lda + p];
                    double bv = tb ? b[offB + (long)j * ldb + p] : b[offB + (long)p * ldb + j];
                    acc += av * bv;
                }
                long ci = offC + (long)i * ldc + j;
                r[ci] = alpha * acc + (beta == 0 ? 0 : beta * (double)c[ci]);
            }
        return r;
    }

    public static IEnumerable<object[]> Shapes()
    {
        int[][] shapes = [[1, 1, 1], [3, 17, 33], [17, 3, 5], [33, 65, 1], [65, 127, 17], [127, 33, 300], [7, 40, 257], [100, 70, 64], [6, 32, 8], [200, 1100, 9]];
        foreach (var s in shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    yield return [s[0], s[1], s[2], ta, tb];
    }

    private static void CheckOne(int m, int n, int k, bool ta, bool tb, float alpha, float beta, int pad, int seed)
    {
        var rng = new Random(seed);
        int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
        var a = Random(rng, (ta ? k : m) * lda);
        var b = Random(rng, (tb ? n : k) * ldb);
        var c = Random(rng, m * ldc);
        if (beta == 0) Array.Fill(c, float.NaN); // beta = 0 must not read C
        var expected = Reference(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        if (beta == 0)
            for (int i = 0; i < m; i++)
                for (int j = n; j < ldc; j++) expected[i * ldc + j] = float.NaN;
        Gemm.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        for (int i = 0; i < c.Length; i++)
        {
            if (double.IsNaN(expected[i]))
            {
                if (!float.IsNaN(c[i])) Assert.Fail($"padding at {i} was written");
                continue;
            }
            double tol = 1e-5 * Math.Sqrt(k + 1) + 1e-5 * Math.Abs(expected[i]);
            if (!(Math.Abs(expected[i] - c[i]) <= tol))
                Assert.Fail($"m={m} n={n} k={k} ta={ta} tb={tb} a={alpha} b={beta}: [{i}] expected {expected[i]} got {c[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ManagedMatchesReference(int m, int n, int k, bool ta, bool tb)
    {
        bool saved = Gemm.ForceManaged;
        Gemm.ForceManaged = true;
        try
        {
            CheckOne(m, n, k, ta, tb, 1f, 0f, 0, m * 31 + n);
            CheckOne(m, n, k, ta, tb, 0.5f, -1.5f, 3, m * 7 + k);
            WithThreads(2, () => CheckOne(m, n, k, ta, tb, -2f, 1f, 1, n * 5 + k));
        }
        finally { Gemm.ForceManaged = saved; }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void DefaultBackendMatchesReference(int m, int n, int k, bool ta, bool tb)
    {
        CheckOne(m, n, k, ta, tb, 1f, 0f, 0, m * 13 + n);
        CheckOne(m, n, k, ta, tb, 0.75f, 2f, 2, k * 3 + n);
    }

    /// <summary>Narrow products with one long dimension (a transformer's projections over many tokens and their
    /// weight gradients) go to SkinnyGemm: tails of rows (m mod 4), 8-wide column tails (n mod 16 = 8),
    /// weight gradients over several segments with a short last one, strides, α and β.</summary>
    [Theory]
    [InlineData(2051, 8, 1, false, false)]
    [InlineData(4099, 24, 33, false, false)]
    [InlineData(2048, 64, 128, false, true)]
    [InlineData(2500, 32, 7, false, true)]
    [InlineData(5, 40, 4097, true, false)]
    [InlineData(32, 32, 8200, true, false)]
    [InlineData(64, 64, 2048, true, false)]
    [InlineData(3, 8, 2049, true, false)]
    [InlineData(512, 16, 32, false, false)]
    [InlineData(16, 48, 600, true, false)]
    public void SkinnyProductsMatchReference(int m, int n, int k, bool ta, bool tb)
    {
        if (!System.Runtime.Intrinsics.X86.Fma.IsSupported) return;
        Assert.True(SkinnyGemm.Takes(ta, tb, m, n, k));
        CheckOne(m, n, k, ta, tb, 1f, 0f, 0, m + n);
        CheckOne(m, n, k, ta, tb, 0.5f, -1.5f, 3, m * 7 + k);
        CheckOne(m, n, k, ta, tb, 1f, 1f, 1, n * 5 + k);
        WithThreads(2, () => CheckOne(m, n, k, ta, tb, -2f, 0f, 2, k));

        OneAndTwoThreadsAgree(new Random(m * n), ta, tb, m, n, k, "skinny");
    }

    private static void OneAndTwoThreadsAgree(Random rng, bool ta, bool tb, int m, int n, int k, string what)
    {
        var a = Random(rng, m * k);
        var b = Random(rng, k * n);
        var c1 = new float[m * n];
        var c2 = new float[m * n];
        int lda = ta ? m : k, ldb = tb ? k : n;
        WithThreads(1, () => Gemm.Sgemm(ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c1, n));
        WithThreads(2, () => Gemm.Sgemm(ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c2, n));
        AssertBitIdentical(c1, c2, $"{what} ta={ta} tb={tb} {m}×{n}×{k}");
    }

    [Theory]
    [InlineData(2048, 12, 32, false, false)]    // n not a multiple of 8
    [InlineData(2048, 32, 129, false, false)]   // k too long for B to stay packed
    [InlineData(511, 32, 32, false, false)]     // too few rows to pay
    [InlineData(65, 32, 4096, true, false)]     // a weight gradient too tall
    [InlineData(32, 32, 4096, true, true)]
    public void SkinnyLeavesOtherShapesToTheLibrary(int m, int n, int k, bool ta, bool tb) =>
        Assert.False(SkinnyGemm.Takes(ta, tb, m, n, k));

    [Fact]
    public void AskingOpenBlasThreadsToSleepAfterTheLibraryLoadedChangesNothing()
    {
        var c = new float[4];
        Gemm.Sgemm(false, false, 2, 2, 2, 1f, [1, 2, 3, 4], 2, [1, 0, 0, 1], 2, 0f, c, 2);   // loads the backend
        Assert.False(Gemm.SleepBlasThreadsBetweenCalls());
        Assert.Equal(new float[] { 1, 2, 3, 4 }, c);
    }

    [Fact]
    public void ZeroKOrZeroAlphaScalesC()
    {
        var c = new float[] { 1, 2, 3, 4 };
        Gemm.Sgemm(false, false, 2, 2, 0, 1f, [], 1, [], 2, 2f, c, 2);
        Assert.Equal(new float[] { 2, 4, 6, 8 }, c);
        var a = new float[] { 1, 1, 1, 1 };
        Gemm.Sgemm(false, false, 2, 2, 2, 0f, a, 2, a, 2, 0f, c, 2);
        Assert.Equal(new float[4], c);
    }

    [Fact]
    public void BadShapesThrowClearly()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 4, 4, 4, 1f, new float[15], 4, new float[16], 4, 0f, new float[16], 4));
        Assert.Contains("A", ex.Message);
        Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 4, 4, 4, 1f, new float[16], 3, new float[16], 4, 0f, new float[16], 4));
        var overlap = Assert.Throws<ArgumentException>(() => Gemm.SgemmStridedBatched(false, false, 2, 2, 2, 1f, new float[8], 2, 4, new float[8], 2, 4, 0f, new float[8], 2, 0, 2));
        Assert.Contains("overlap", overlap.Message);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void BatchedMatchesReference(bool ta, bool tb)
    {
        foreach (bool managed in new[] { true, false })
        {
            bool saved = Gemm.ForceManaged;
            Gemm.ForceManaged = managed;
            try
            {
                var rng = new Random(ta ? 3 : 4);
                int batch = 37, m = 50, n = 50, k = 16;
                int lda = ta ? m : k, ldb = tb ? k : n, ldc = n;
                long sa = m * k, sb = k * n, sc = m * n;
                var a = Random(rng, (int)(batch * sa));
                var b = Random(rng, (int)(batch * sb));
                var c = Random(rng, (int)(batch * sc));
                var expected = new double[c.Length];
                for (int i = 0; i < batch; i++)
                {
                    var r = Reference(ta, tb, m, n, k, 1.5f, a, lda, b, ldb, 0.5f, c, ldc, i * sa, i * sb, i * sc);
                    for (long j = i * sc; j < (i + 1) * sc; j++) expected[j] = r[j];
                }
                Gemm.SgemmStridedBatched(ta, tb, m, n, k, 1.5f, a, lda, sa, b, ldb, sb, 0.5f, c, ldc, sc, batch);
                AssertClose(expected, c, 2e-5, 1e-5, $"batched managed={managed}");
            }
            finally { Gemm.ForceManaged = saved; }
        }
    }

    [Fact]
    public void BatchedWithSharedOperand()
    {
        var rng = new Random(9);
        int batch = 5, m = 7, n = 9, k = 11;
        var a = Random(rng, batch * m * k);
        var w = Random(rng, k * n);
        var c = new float[batch * m * n];
        Gemm.SgemmStridedBatched(false, false, m, n, k, 1f, a, k, m * k, w, n, 0, 0f, c, n, m * n, batch);
        var whole = new float[batch * m * n];
        Gemm.Sgemm(false, false, batch * m, n, k, 1f, a, k, w, n, 0f, whole, n);
        AssertClose(whole, c, 1e-5, 1e-5, "shared weight");
    }

    [Theory]
    [InlineData(true, 300, 256, 256)]
    [InlineData(false, 300, 256, 256)]
    [InlineData(true, 1024, 320, 256)]
    [InlineData(false, 1024, 320, 256)]
    [InlineData(true, 20, 600, 100)]
    [InlineData(false, 20, 600, 100)]     // m < n: OpenBLAS may not be cut along N
    [InlineData(false, 200, 300, 256)]
    [InlineData(true, 200, 300, 256)]
    public void OneAndTwoThreadsAreBitIdentical(bool managed, int m, int n, int k)
    {
        // OpenBLAS is held to it where the dispatch uses it (on the Zen 5 VM its Haswell core does
        // not get the products; on a Zen 3 it does, split over our threads: OpenBlas.ThreadsKeepBits).
        if (!managed && !Gemm.BlasPreferred) return;
        bool saved = Gemm.ForceManaged;
        Gemm.ForceManaged = managed;
        try
        {
            var rng = new Random(m + n);
            var a = Random(rng, m * k);
            var b = Random(rng, k * n);
            var c1 = new float[m * n];
            var c2 = new float[m * n];
            WithThreads(1, () => Gemm.Sgemm(false, true, m, n, k, 1f, a, k, b, k, 0f, c1, n));
            WithThreads(2, () => Gemm.Sgemm(false, true, m, n, k, 1f, a, k, b, k, 0f, c2, n));
            AssertBitIdentical(c1, c2, $"managed={managed}");
            var bc1 = new float[m * n];
            var bc2 = new float[m * n];
            WithThreads(1, () => Gemm.SgemmStridedBatched(false, false, m / 4, n, k / 4, 1f, a, k / 4, (m / 4) * (k / 4), b, n, 0, 0f, bc1, n, (m / 4) * n, 4));
            WithThreads(2, () => Gemm.SgemmStridedBatched(false, false, m / 4, n, k / 4, 1f, a, k / 4, (m / 4) * (k / 4), b, n, 0, 0f, bc2, n, (m / 4) * n, 4));
            AssertBitIdentical(bc1, bc2, $"batched managed={managed}");
        }
        finally { Gemm.ForceManaged = saved; }
    }

    /// <summary>The same over a sweep of shapes and transposes, for the dispatched backend and the
    /// managed kernel: a job may run split or in one piece (KernelWorkers runs it whole when another
    /// thread holds the helpers), and neither may move a bit. Against 1a7a5dd's Gemm.cs, which cut
    /// OpenBLAS products with m &lt; n into column blocks, the dispatched OpenBLAS (Zen core) fails
    /// it (first at 48×100×256).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OneAndTwoThreadsAreBitIdenticalOverAShapeSweep(bool managed)
    {
        if (!managed && !Gemm.BlasPreferred) return;
        bool saved = Gemm.ForceManaged;
        Gemm.ForceManaged = managed;
        try
        {
            var rng = new Random(11);
            foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            foreach (int m in new[] { 7, 48, 100, 300, 1024 })
            foreach (int n in new[] { 1, 16, 100, 300 })
            foreach (int k in new[] { 32, 256 })
            {
                if ((long)m * n * k < Gemm.ParallelMinMacs) continue;   // one thread either way
                OneAndTwoThreadsAgree(rng, ta, tb, m, n, k, $"managed={managed}");
            }
        }
        finally { Gemm.ForceManaged = saved; }
    }

    [Fact]
    public void OpenBlasCanBeSwitchedOff()
    {
        if (Environment.GetEnvironmentVariable("SHARPCTR_OPENBLAS") == "off")
        {
            Assert.False(Gemm.BlasAvailable);
            Assert.StartsWith("managed", Gemm.Backend);
        }
    }

    [Fact]
    public void OpenBlasAndManagedAgree()
    {
        if (!Gemm.BlasAvailable) return; // nothing to compare without the library
        var rng = new Random(5);
        int m = 257, n = 130, k = 300;
        var a = Random(rng, m * k);
        var b = Random(rng, k * n);
        var blas = new float[m * n];
        var managed = new float[m * n];
        bool saved = Gemm.ForceManaged;
        Gemm.ForceManaged = false;
        Gemm.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, blas, n);
        Gemm.ForceManaged = true;
        try { Gemm.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, managed, n); }
        finally { Gemm.ForceManaged = saved; }
        AssertClose(blas, managed, 1e-4, 1e-5, "blas vs managed");
        Assert.Contains("OpenBLAS", Gemm.Backend);
    }

    [Theory]
    [InlineData(true, "Haswell", true)]        // AVX-512 CPU, OpenBLAS without its AVX-512 kernels: managed
    [InlineData(true, "Zen", true)]
    [InlineData(true, "SkylakeX", false)]      // OpenBLAS's AVX-512 kernels keep the products
    [InlineData(true, "cooperlake", false)]
    [InlineData(false, "Haswell", false)]      // no AVX-512: the managed kernel has only its 256-bit path
    public void ManagedTakesOverOnlyFromAnOpenBlasCoreWithoutAvx512(bool avx512, string core, bool managed) =>
        Assert.Equal(managed, Gemm.ManagedBeatsBlas(avx512, core));
}
