namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Row-major single-precision matrix multiply, C = alpha·op(A)·op(B) + beta·C, with
/// op(X) = X or Xᵀ. Dispatches to OpenBLAS when it is installed and the product is large enough
/// to pay its call overhead, else to <see cref="ManagedGemm"/>. Threads split M (or the batch),
/// never K, so results do not depend on the thread count. When beta is 0, C is not read (it may
/// hold garbage or NaN), as in BLAS.
/// </summary>
public static unsafe class Gemm
{
    /// <summary>Use the managed kernel even when OpenBLAS is available (also env SHARPCTR_GEMM=managed).</summary>
    public static bool ForceManaged { get; set; } =
        string.Equals(Environment.GetEnvironmentVariable("SHARPCTR_GEMM"), "managed", StringComparison.OrdinalIgnoreCase);

    /// <summary>Products with fewer multiply-adds (m·n·k) than this go to the managed kernel:
    /// below it OpenBLAS's per-call overhead dominates (measured with `sharpctr bench kernels`).</summary>
    public static long BlasMinMacs { get; set; } = 64 * 64 * 64;

    /// <summary>Multiply-adds below which one thread is used.</summary>
    public static long ParallelMinMacs { get; set; } = 1L << 20;

    public static bool BlasAvailable => OpenBlas.IsAvailable;

    /// <summary>The backend large products use, for printouts.</summary>
    public static string Backend => BlasAvailable && !ForceManaged ? OpenBlas.Description : "managed " + ManagedGemm.Isa;

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        CheckShapes(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc, 1, 0, 0, 0);
        if (m == 0 || n == 0) return;
        fixed (float* pa = a, pb = b, pc = c)
            Run(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }

    /// <summary>
    /// <paramref name="batch"/> independent products; item i uses A at i·strideA, B at i·strideB,
    /// C at i·strideC (a stride of 0 shares an operand across the batch, e.g. a weight).
    /// </summary>
    public static void SgemmStridedBatched(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB,
        float beta, Span<float> c, int ldc, long strideC, int batch)
    {
        CheckShapes(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc, batch, strideA, strideB, strideC);
        if (m == 0 || n == 0 || batch == 0) return;
        long macs = (long)m * n * k;
        fixed (float* pa = a, pb = b, pc = c)
        {
            if (batch == 1)
            {
                Run(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                return;
            }
            // Small items: one item per call, items spread over threads (each item on one thread).
            nint ia = (nint)pa, ib = (nint)pb, ic = (nint)pc;
            bool blas = UseBlas(macs);
            int workers = KernelThreads.For(macs * batch, ParallelMinMacs);
            if (blas && workers > 1 && macs >= ParallelMinMacs)
            {
                // Items big enough to thread on their own: let the library use both cores per item.
                for (int i = 0; i < batch; i++)
                    OpenBlas.Sgemm(transA, transB, m, n, k, alpha, pa + i * strideA, lda, pb + i * strideB, ldb, beta, pc + i * strideC, ldc, workers);
                return;
            }
            KernelThreads.Run(batch, workers, (start, end) =>
            {
                float* xa = (float*)ia, xb = (float*)ib, xc = (float*)ic;
                for (int i = start; i < end; i++)
                {
                    if (blas)
                        OpenBlas.Sgemm(transA, transB, m, n, k, alpha, xa + i * strideA, lda, xb + i * strideB, ldb, beta, xc + i * strideC, ldc, 1);
                    else
                        ManagedGemm.Sgemm(transA, transB, m, n, k, alpha, xa + i * strideA, lda, xb + i * strideB, ldb, beta, xc + i * strideC, ldc);
                }
            });
        }
    }

    private static bool UseBlas(long macs) => BlasAvailable && !ForceManaged && macs >= BlasMinMacs;

    private static void Run(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        long macs = (long)m * n * k;
        int workers = KernelThreads.For(macs, ParallelMinMacs);
        if (UseBlas(macs))
        {
            OpenBlas.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, workers);
            return;
        }
        if (workers == 1)
        {
            ManagedGemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        // Split the larger of M and N; each worker computes whole output elements.
        nint ia = (nint)a, ib = (nint)b, ic = (nint)c;
        if (m >= n)
        {
            KernelThreads.Run(m, workers, (r0, r1) =>
            {
                float* xa = (float*)ia + (transA ? r0 : (long)r0 * lda);
                ManagedGemm.Sgemm(transA, transB, r1 - r0, n, k, alpha, xa, lda, (float*)ib, ldb, beta, (float*)ic + (long)r0 * ldc, ldc);
            });
        }
        else
        {
            KernelThreads.Run(n, workers, (c0, c1) =>
            {
                float* xb = (float*)ib + (transB ? (long)c0 * ldb : c0);
                ManagedGemm.Sgemm(transA, transB, m, c1 - c0, k, alpha, (float*)ia, lda, xb, ldb, beta, (float*)ic + c0, ldc);
            });
        }
    }

    private static void CheckShapes(bool transA, bool transB, int m, int n, int k, int aLen, int lda, int bLen, int ldb,
        int cLen, int ldc, int batch, long strideA, long strideB, long strideC)
    {
        if (m < 0 || n < 0 || k < 0 || batch < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"Gemm: negative size m={m} n={n} k={k} batch={batch}");
        CheckOperand("A", transA ? k : m, transA ? m : k, aLen, lda, batch, strideA);
        CheckOperand("B", transB ? n : k, transB ? k : n, bLen, ldb, batch, strideB);
        CheckOperand("C", m, n, cLen, ldc, batch, strideC);
    }

    private static void CheckOperand(string name, int rows, int cols, int length, int ld, int batch, long stride)
    {
        if (ld < Math.Max(1, cols))
            throw new ArgumentException($"Gemm: leading dimension of {name} is {ld}, less than its {cols} columns");
        if (rows == 0 || cols == 0 || batch == 0) return;
        long needed = (long)(batch - 1) * stride + (long)(rows - 1) * ld + cols;
        if (stride < 0 || needed > length)
            throw new ArgumentException($"Gemm: {name} ({rows}×{cols}, ld {ld}, batch {batch}, stride {stride}) needs {needed} floats but has {length}");
    }
}
