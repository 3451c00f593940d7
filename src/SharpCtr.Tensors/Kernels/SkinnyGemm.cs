using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Products with a narrow output (n ≤ 64 columns) and one long dimension: a transformer's
/// projections over [histories × tokens] rows at d_model 32–64 (C = A·W, C = A·Wᵀ) and their weight
/// gradients (C = Aᵀ·B summed over all rows). OpenBLAS packs both operands on every call, and at
/// these widths packing costs about as much as the arithmetic (GenCI-small's 81920×32×32 ran at
/// ~21 GFLOP/s there). Here the small operand stays in L1 and the long one is read once.
/// In C = A·B each output element is one multiply-add chain; the weight gradient sums fixed
/// 4096-row segments, each one chain, in segment order. Neither depends on the thread count.
/// </summary>
internal static unsafe class SkinnyGemm
{
    /// <summary>The long dimension below which the library's kernels are left alone.</summary>
    const int MinLong = 512;
    /// <summary>Rows of A and B one weight-gradient partial sums; partials are added in segment order.</summary>
    const int Segment = 4096;
    const int RowBlock = 64;   // rows per unit of the thread split in C = A·B

    /// <summary>Whether this product is one the skinny loops take: C = A·B or A·Bᵀ with k ≤ 128, or C = Aᵀ·B with m ≤ 64.</summary>
    public static bool Takes(bool transA, bool transB, int m, int n, int k) =>
        Fma.IsSupported && n % 8 == 0 && n is > 0 and <= 64 &&
        (transA ? !transB && m is > 0 and <= 64 && k >= MinLong : k is > 0 and <= 128 && m >= MinLong);

    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, int workers)
    {
        if (transA) WeightGradient(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, workers);
        else Rows(transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, workers);
    }

    // ---- C[m×n] = α·A[m×k]·B + β·C, B as [k×n] or (transB) [n×k] -------------------------------

    static void Rows(bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
        float beta, float* c, int ldc, int workers)
    {
        // B packed as [k×n] contiguous: 32 KiB at most, read by every row block from L1.
        float* packed = stackalloc float[k * n];
        for (int q = 0; q < k; q++)
            for (int j = 0; j < n; j++)
                packed[q * n + j] = transB ? b[(long)j * ldb + q] : b[(long)q * ldb + j];
        var job = new RowsJob { M = m, N = n, K = k, Alpha = alpha, Beta = beta, A = a, Lda = lda, B = packed, C = c, Ldc = ldc };
        KernelThreads.Run(job, (m + RowBlock - 1) / RowBlock, workers);
    }

    struct RowsJob : IRangeJob
    {
        public int M, N, K, Lda, Ldc;
        public float Alpha, Beta;
        public float* A, B, C;

        // Output row i reads row i of A (a step of 1 along k); B is the packed [k×n].
        public readonly void Run(int startBlock, int endBlock) =>
            Tiles(startBlock * RowBlock, Math.Min(endBlock * RowBlock, M), N, A, Lda, 1, B, N, K, C, Ldc, accumulate: false, Alpha, Beta);
    }

    // ---- C[m×n] = α·Aᵀ·B + β·C with A [k×m], B [k×n], k long: a weight gradient --------------

    static void WeightGradient(int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
        float beta, float* c, int ldc, int workers)
    {
        int segments = (k + Segment - 1) / Segment, tile = m * n;
        var partials = ArrayPool<float>.Shared.Rent(segments * tile);
        try
        {
            fixed (float* p = partials)
            {
                var job = new SegmentJob { M = m, N = n, K = k, A = a, Lda = lda, B = b, Ldb = ldb, Partials = p };
                KernelThreads.Run(job, segments, workers);
                // Segment sums in segment order: the same bits for any thread count.
                for (int s = 1; s < segments; s++)
                    for (int i = 0; i < tile; i += 8)
                        Avx.Store(p + i, Avx.Add(Avx.LoadVector256(p + i), Avx.LoadVector256(p + (long)s * tile + i)));
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j += 8)
                        Store(c + (long)i * ldc + j, Avx.LoadVector256(p + i * n + j), alpha, beta);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(partials);
        }
    }

    struct SegmentJob : IRangeJob
    {
        public int M, N, K, Lda, Ldb;
        public float* A, B, Partials;

        const int Chunk = 64;

        public readonly void Run(int start, int end)
        {
            for (int s = start; s < end; s++)
            {
                int r0 = s * Segment, r1 = Math.Min(r0 + Segment, K);
                float* p = Partials + (long)s * M * N;
                // Chunks of rows small enough to stay in L1 while every tile of the partial reads them;
                // the accumulators go through p between chunks, which leaves each chain's order unchanged.
                // Output row i of the partial is column i of A (a step of Lda along k).
                for (int c0 = r0; c0 < r1; c0 += Chunk)
                    Tiles(0, M, N, A + (long)c0 * Lda, 1, Lda, B + (long)c0 * Ldb, Ldb, Math.Min(c0 + Chunk, r1) - c0, p, N,
                        accumulate: c0 != r0, 1f, 0f);
            }
        }
    }

    // ---- the register tiles both products share ------------------------------------------------

    /// <summary>
    /// Output rows [i0, i1) × n columns: out[i, j] = Σ_q a[i·aRow + q·aStep] · b[q·bStep + j], q in
    /// [0, steps), one multiply-add chain per element in q order, stored as α·sum + β·out. With
    /// <paramref name="accumulate"/> the chains start from out's values (a partial sum carried
    /// across chunks, with α = 1 and β = 0); otherwise from zero.
    /// </summary>
    static void Tiles(int i0, int i1, int n, float* a, long aRow, long aStep, float* b, long bStep, int steps,
        float* c, long ldc, bool accumulate, float alpha, float beta)
    {
        int i = i0;
        for (; i + 4 <= i1; i += 4)
            for (int j = 0; j < n; j += 8)
                if (j + 16 <= n) { Tile4x16(a + i * aRow, aRow, aStep, b + j, bStep, steps, c + i * ldc + j, ldc, accumulate, alpha, beta); j += 8; }
                else Tile4x8(a + i * aRow, aRow, aStep, b + j, bStep, steps, c + i * ldc + j, ldc, accumulate, alpha, beta);
        for (; i < i1; i++)
            for (int j = 0; j < n; j += 8) Tile1x8(a + i * aRow, aStep, b + j, bStep, steps, c + i * ldc + j, accumulate, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Start(float* c, bool accumulate) => accumulate ? Avx.LoadVector256(c) : Vector256<float>.Zero;

    // Four output rows by sixteen columns: 8 accumulators, enough independent chains to keep both FMA units busy.
    static void Tile4x16(float* a, long aRow, long aStep, float* b, long bStep, int steps, float* c, long ldc, bool accumulate, float alpha, float beta)
    {
        float* c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        Vector256<float> c00 = Start(c, accumulate), c01 = Start(c + 8, accumulate), c10 = Start(c1, accumulate), c11 = Start(c1 + 8, accumulate),
            c20 = Start(c2, accumulate), c21 = Start(c2 + 8, accumulate), c30 = Start(c3, accumulate), c31 = Start(c3 + 8, accumulate);
        float* a0 = a, a1 = a0 + aRow, a2 = a1 + aRow, a3 = a2 + aRow;
        for (long q = 0, end = steps * aStep; q < end; q += aStep, b += bStep)
        {
            var b0 = Avx.LoadVector256(b);
            var b1 = Avx.LoadVector256(b + 8);
            var x = Vector256.Create(a0[q]); c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[q]); c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[q]); c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[q]); c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
        }
        Store(c, c00, alpha, beta); Store(c + 8, c01, alpha, beta);
        Store(c1, c10, alpha, beta); Store(c1 + 8, c11, alpha, beta);
        Store(c2, c20, alpha, beta); Store(c2 + 8, c21, alpha, beta);
        Store(c3, c30, alpha, beta); Store(c3 + 8, c31, alpha, beta);
    }

    static void Tile4x8(float* a, long aRow, long aStep, float* b, long bStep, int steps, float* c, long ldc, bool accumulate, float alpha, float beta)
    {
        float* c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        Vector256<float> acc0 = Start(c, accumulate), acc1 = Start(c1, accumulate), acc2 = Start(c2, accumulate), acc3 = Start(c3, accumulate);
        float* a0 = a, a1 = a0 + aRow, a2 = a1 + aRow, a3 = a2 + aRow;
        for (long q = 0, end = steps * aStep; q < end; q += aStep, b += bStep)
        {
            var bv = Avx.LoadVector256(b);
            acc0 = Fma.MultiplyAdd(Vector256.Create(a0[q]), bv, acc0);
            acc1 = Fma.MultiplyAdd(Vector256.Create(a1[q]), bv, acc1);
            acc2 = Fma.MultiplyAdd(Vector256.Create(a2[q]), bv, acc2);
            acc3 = Fma.MultiplyAdd(Vector256.Create(a3[q]), bv, acc3);
        }
        Store(c, acc0, alpha, beta); Store(c1, acc1, alpha, beta);
        Store(c2, acc2, alpha, beta); Store(c3, acc3, alpha, beta);
    }

    static void Tile1x8(float* a, long aStep, float* b, long bStep, int steps, float* c, bool accumulate, float alpha, float beta)
    {
        var acc = Start(c, accumulate);
        for (long q = 0, end = steps * aStep; q < end; q += aStep, b += bStep) acc = Fma.MultiplyAdd(Vector256.Create(a[q]), Avx.LoadVector256(b), acc);
        Store(c, acc, alpha, beta);
    }

    /// <summary>c = α·acc + β·c; with β = 0, c is not read (it may hold anything, NaN included).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, Vector256<float> acc, float alpha, float beta)
    {
        var v = alpha == 1 ? acc : Avx.Multiply(acc, Vector256.Create(alpha));
        if (beta != 0) v = Avx.Add(v, beta == 1 ? Avx.LoadVector256(c) : Avx.Multiply(Avx.LoadVector256(c), Vector256.Create(beta)));
        Avx.Store(c, v);
    }
}
