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

        public readonly void Run(int startBlock, int endBlock)
        {
            int end = Math.Min(endBlock * RowBlock, M), r = startBlock * RowBlock;
            for (; r + 4 <= end; r += 4)
                for (int j = 0; j < N; j += 8)
                    if (j + 16 <= N) { Tile4x16(r, j); j += 8; }
                    else Tile4x8(r, j);
            for (; r < end; r++)
                for (int j = 0; j < N; j += 8) Tile1x8(r, j);
        }

        readonly void Tile4x16(int r, int j)
        {
            Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
            float* a0 = A + (long)r * Lda, a1 = a0 + Lda, a2 = a1 + Lda, a3 = a2 + Lda, bq = B + j;
            for (int q = 0; q < K; q++, bq += N)
            {
                var b0 = Avx.LoadVector256(bq);
                var b1 = Avx.LoadVector256(bq + 8);
                var x = Vector256.Create(a0[q]); c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
                x = Vector256.Create(a1[q]); c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
                x = Vector256.Create(a2[q]); c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
                x = Vector256.Create(a3[q]); c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
            }
            float* cr = C + (long)r * Ldc + j;
            Store(cr, c00); Store(cr + 8, c01); cr += Ldc;
            Store(cr, c10); Store(cr + 8, c11); cr += Ldc;
            Store(cr, c20); Store(cr + 8, c21); cr += Ldc;
            Store(cr, c30); Store(cr + 8, c31);
        }

        readonly void Tile4x8(int r, int j)
        {
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
            float* a0 = A + (long)r * Lda, a1 = a0 + Lda, a2 = a1 + Lda, a3 = a2 + Lda, bq = B + j;
            for (int q = 0; q < K; q++, bq += N)
            {
                var b0 = Avx.LoadVector256(bq);
                c0 = Fma.MultiplyAdd(Vector256.Create(a0[q]), b0, c0);
                c1 = Fma.MultiplyAdd(Vector256.Create(a1[q]), b0, c1);
                c2 = Fma.MultiplyAdd(Vector256.Create(a2[q]), b0, c2);
                c3 = Fma.MultiplyAdd(Vector256.Create(a3[q]), b0, c3);
            }
            float* cr = C + (long)r * Ldc + j;
            Store(cr, c0); Store(cr + Ldc, c1); Store(cr + 2L * Ldc, c2); Store(cr + 3L * Ldc, c3);
        }

        readonly void Tile1x8(int r, int j)
        {
            Vector256<float> acc = default;
            float* ar = A + (long)r * Lda, bq = B + j;
            for (int q = 0; q < K; q++, bq += N) acc = Fma.MultiplyAdd(Vector256.Create(ar[q]), Avx.LoadVector256(bq), acc);
            Store(C + (long)r * Ldc + j, acc);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        readonly void Store(float* c, Vector256<float> acc) => SkinnyGemm.Store(c, acc, Alpha, Beta);
    }

    /// <summary>c = α·acc + β·c; with β = 0, c is not read (it may hold anything, NaN included).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, Vector256<float> acc, float alpha, float beta)
    {
        var v = alpha == 1 ? acc : Avx.Multiply(acc, Vector256.Create(alpha));
        if (beta != 0) v = Avx.Add(v, beta == 1 ? Avx.LoadVector256(c) : Avx.Multiply(Avx.LoadVector256(c), Vector256.Create(beta)));
        Avx.Store(c, v);
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

        public readonly void Run(int start, int end)
        {
            for (int s = start; s < end; s++)
            {
                int r0 = s * Segment, r1 = Math.Min(r0 + Segment, K);
                float* p = Partials + (long)s * M * N;
                // Chunks of rows small enough to stay in L1 while every tile of C reads them; a tile's
                // accumulators go through p between chunks, which leaves each chain's order unchanged.
                for (int c0 = r0; c0 < r1; c0 += Chunk)
                {
                    int c1 = Math.Min(c0 + Chunk, r1);
                    bool first = c0 == r0;
                    int i = 0;
                    for (; i + 4 <= M; i += 4)
                        for (int j = 0; j < N; j += 8)
                            if (j + 16 <= N) { Tile4x16(p, i, j, c0, c1, first); j += 8; }
                            else Tile4x8(p, i, j, c0, c1, first);
                    for (; i < M; i++)
                        for (int j = 0; j < N; j += 8) Tile1x8(p, i, j, c0, c1, first);
                }
            }
        }

        const int Chunk = 64;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector256<float> Start(float* p, bool first) => first ? Vector256<float>.Zero : Avx.LoadVector256(p);

        // Four rows of C (columns i..i+3 of A) by sixteen columns: 8 accumulators (enough independent
        // chains to keep both FMA units busy), each the sum over the segment's rows of
        // A[r, i+t]·B[r, j..j+15]. A segment's A and B rows stay in L2 across the tiles that re-read them.
        readonly void Tile4x16(float* p, int i, int j, int r0, int r1, bool first)
        {
            float* pr = p + i * N + j;
            Vector256<float> c00 = Start(pr, first), c01 = Start(pr + 8, first), c10 = Start(pr + N, first), c11 = Start(pr + N + 8, first),
                c20 = Start(pr + 2 * N, first), c21 = Start(pr + 2 * N + 8, first), c30 = Start(pr + 3 * N, first), c31 = Start(pr + 3 * N + 8, first);
            float* ar = A + (long)r0 * Lda + i, br = B + (long)r0 * Ldb + j;
            for (int r = r0; r < r1; r++, ar += Lda, br += Ldb)
            {
                var b0 = Avx.LoadVector256(br);
                var b1 = Avx.LoadVector256(br + 8);
                var x = Vector256.Create(ar[0]); c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
                x = Vector256.Create(ar[1]); c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
                x = Vector256.Create(ar[2]); c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
                x = Vector256.Create(ar[3]); c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
            }
            Avx.Store(pr, c00); Avx.Store(pr + 8, c01); pr += N;
            Avx.Store(pr, c10); Avx.Store(pr + 8, c11); pr += N;
            Avx.Store(pr, c20); Avx.Store(pr + 8, c21); pr += N;
            Avx.Store(pr, c30); Avx.Store(pr + 8, c31);
        }

        readonly void Tile4x8(float* p, int i, int j, int r0, int r1, bool first)
        {
            float* pr = p + i * N + j;
            Vector256<float> c0 = Start(pr, first), c1 = Start(pr + N, first), c2 = Start(pr + 2 * N, first), c3 = Start(pr + 3 * N, first);
            float* ar = A + (long)r0 * Lda + i, br = B + (long)r0 * Ldb + j;
            for (int r = r0; r < r1; r++, ar += Lda, br += Ldb)
            {
                var bv = Avx.LoadVector256(br);
                c0 = Fma.MultiplyAdd(Vector256.Create(ar[0]), bv, c0);
                c1 = Fma.MultiplyAdd(Vector256.Create(ar[1]), bv, c1);
                c2 = Fma.MultiplyAdd(Vector256.Create(ar[2]), bv, c2);
                c3 = Fma.MultiplyAdd(Vector256.Create(ar[3]), bv, c3);
            }
            Avx.Store(pr, c0); Avx.Store(pr + N, c1); Avx.Store(pr + 2 * N, c2); Avx.Store(pr + 3 * N, c3);
        }

        readonly void Tile1x8(float* p, int i, int j, int r0, int r1, bool first)
        {
            Vector256<float> acc = Start(p + i * N + j, first);
            float* ar = A + (long)r0 * Lda + i, br = B + (long)r0 * Ldb + j;
            for (int r = r0; r < r1; r++, ar += Lda, br += Ldb) acc = Fma.MultiplyAdd(Vector256.Create(*ar), Avx.LoadVector256(br), acc);
            Avx.Store(p + i * N + j, acc);
        }
    }
}
