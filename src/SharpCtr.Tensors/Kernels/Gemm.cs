namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Row-major single-precision matrix multiply, C = alpha·op(A)·op(B) + beta·C, with
/// op(X) = X or Xᵀ. Dispatches to OpenBLAS when it is installed and the product is large enough
/// to pay its call overhead, else to <see cref="ManagedGemm"/>; narrow products with one long
/// dimension go to <see cref="SkinnyGemm"/> on either. Threads split M (or the batch), or K in
/// fixed segments summed in order, so results do not depend on the thread count. When beta is 0,
/// C is not read (it may hold garbage or NaN), as in BLAS.
/// </summary>
public static unsafe class Gemm
{
    static bool? forceManaged;

    /// <summary>
    /// Use the managed kernel even when OpenBLAS is available. Default: SHARPCTR_GEMM=managed or
    /// =blas when set, else <see cref="ManagedBeatsBlas"/> for this CPU and OpenBLAS's core type.
    /// Decided on first use (it loads OpenBLAS to read its core), not at type load, so
    /// <see cref="SleepBlasThreadsBetweenCalls"/> can still set OpenBLAS's environment before that.
    /// </summary>
    public static bool ForceManaged
    {
        get => forceManaged ??= DefaultForceManaged(Environment.GetEnvironmentVariable("SHARPCTR_GEMM"));
        set => forceManaged = value;
    }

    static bool DefaultForceManaged(string? setting)
    {
        if (string.Equals(setting, "managed", StringComparison.OrdinalIgnoreCase)) return true;
        if (string.Equals(setting, "blas", StringComparison.OrdinalIgnoreCase)) return false;
        return !BlasPreferred;
    }

    /// <summary>Whether OpenBLAS is loaded and, on this CPU and its core type, preferred to the managed kernel.</summary>
    public static bool BlasPreferred => BlasAvailable && !ManagedBeatsBlas(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, OpenBlas.Core);

    /// <summary>
    /// Whether the managed kernel should take the products OpenBLAS would: on an AVX-512 CPU whose
    /// OpenBLAS runs a core type without AVX-512 kernels (a machine that sets
    /// OPENBLAS_CORETYPE=Haswell, or a CPU OpenBLAS 0.3.21 does not know, such as AMD Zen 5). On such
    /// a Zen 5 VM, GEMM 1024×256×256 read 306–363 GFLOP/s managed against 172–227 for OpenBLAS's
    /// Haswell core (268–435 with SkylakeX forced: this host is noisy), and DeepFM trained at 125k samples/s against 103k.
    /// Where OpenBLAS has its AVX-512 kernels it keeps the products: on the Cascade Lake VM they
    /// won at every size down to 8×8×8 (docs/BENCHMARKS.md, GEMM dispatch).
    /// </summary>
    public static bool ManagedBeatsBlas(bool cpuHasAvx512, string blasCore) =>
        cpuHasAvx512 && !OpenBlas.HasAvx512Kernels(blasCore);

    /// <summary>Products with fewer multiply-adds (m·n·k) than this go to the managed kernel even
    /// when OpenBLAS is loaded. Measured on the 2-core AVX-512 VM: OpenBLAS 0.3.21 (SkylakeX core,
    /// which has small-matrix kernels) was faster at every size tried down to 8×8×8, so 0 — kept
    /// as a knob for other libraries/machines.</summary>
    public static long BlasMinMacs { get; set; }

    /// <summary>Multiply-adds below which one thread is used.</summary>
    public static long ParallelMinMacs { get; set; } = 1L << 20;

    public static bool BlasAvailable => OpenBlas.IsAvailable;

    /// <summary>
    /// Makes OpenBLAS's worker threads sleep right after each call instead of spinning ~0.1 s for
    /// the next one (design note 29). A training step alternates OpenBLAS products with managed
    /// kernels, and a spinning worker held the second core that the kernel helper needed (DIN
    /// training +4–8 %, DeepFM +2–5 %). Scoring keeps OpenBLAS's default: with sleeping workers a
    /// request's p99 on two threads rose (DIN 1.6–2.1 → 2.7–2.8 ms). Takes effect only before the
    /// first product loads the library; false when it is already loading or loaded, or the user
    /// set OPENBLAS_THREAD_TIMEOUT.
    /// </summary>
    public static bool SleepBlasThreadsBetweenCalls()
    {
        if (OpenBlasEnvironment.Loading || !OpenBlasEnvironment.SetIfUnset("OPENBLAS_THREAD_TIMEOUT", "4")) return false;
        OpenBlasEnvironment.ThreadsSleep = true;
        return true;
    }

    /// <summary>The backend large products use, for printouts.</summary>
    public static string Backend => !BlasAvailable || ForceManaged
        ? "managed " + ManagedGemm.Isa + (BlasAvailable ? $" (OpenBLAS core {OpenBlas.Core} loaded, not used)" : "")
        : OpenBlas.Description + (OpenBlas.ThreadsKeepBits ? "" : ", one thread per block of rows");

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
            bool blas = UseBlas(macs);
            int workers = KernelThreads.For(macs * batch, ParallelMinMacs);
            if (blas && Math.Min(workers, KernelThreads.Max) > 1 && macs >= ParallelMinMacs && OpenBlas.ThreadsKeepBits)
            {
                // Items big enough to thread on their own: let the library use both cores per item.
                for (int i = 0; i < batch; i++)
                    OpenBlas.Sgemm(transA, transB, m, n, k, alpha, pa + i * strideA, lda, pb + i * strideB, ldb, beta, pc + i * strideC, ldc, Math.Min(workers, KernelThreads.Max));
                return;
            }
            // Small items: each item on one thread, items spread over threads.
            var job = new BatchJob
            {
                TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta, Blas = blas,
                A = pa, Lda = lda, StrideA = strideA, B = pb, Ldb = ldb, StrideB = strideB, C = pc, Ldc = ldc, StrideC = strideC,
            };
            KernelThreads.Run(job, batch, workers);
        }
    }

    private struct BatchJob : IRangeJob
    {
        public bool TransA, TransB, Blas;
        public int M, N, K, Lda, Ldb, Ldc;
        public float Alpha, Beta;
        public float* A, B, C;
        public long StrideA, StrideB, StrideC;

        public readonly void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                if (Blas)
                    OpenBlas.Sgemm(TransA, TransB, M, N, K, Alpha, A + i * StrideA, Lda, B + i * StrideB, Ldb, Beta, C + i * StrideC, Ldc, 1);
                else
                    ManagedGemm.Sgemm(TransA, TransB, M, N, K, Alpha, A + i * StrideA, Lda, B + i * StrideB, Ldb, Beta, C + i * StrideC, Ldc);
            }
        }
    }

    /// <summary>One product on the calling thread, by the same backend choice as a batch item.</summary>
    internal static void SingleThreaded(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (UseBlas((long)m * n * k)) OpenBlas.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 1);
        else ManagedGemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    private static bool UseBlas(long macs) => BlasAvailable && !ForceManaged && macs >= BlasMinMacs;

    private static void Run(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        long macs = (long)m * n * k;
        int workers = KernelThreads.For(macs, ParallelMinMacs);
        if (alpha != 0 && SkinnyGemm.Takes(transA, transB, m, n, k))   // α = 0: A and B are not read (BLAS)
        {
            SkinnyGemm.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, workers);
            return;
        }
        bool blas = UseBlas(macs);
        int threads = Math.Min(workers, KernelThreads.Max);
        if (blas && (threads == 1 || OpenBlas.ThreadsKeepBits))
        {
            OpenBlas.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads);
            return;
        }
        if (workers == 1)
        {
            ManagedGemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        // Split into blocks of SplitBlock rows or columns; each worker computes whole output
        // elements, each block on one thread of its backend. The managed kernel splits the larger
        // of M and N; OpenBLAS only M: its bits change with where N is cut, not with where M is
        // (GemmTests.OneAndTwoThreadsAreBitIdenticalOverAShapeSweep).
        bool splitRows = blas || m >= n;
        int extent = splitRows ? m : n;
        var job = new SplitJob { TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta, A = a, Lda = lda, B = b, Ldb = ldb, C = c, Ldc = ldc, SplitRows = splitRows, Blas = blas };
        KernelThreads.Run(job, (extent + SplitBlock - 1) / SplitBlock, workers);
    }

    /// <summary>Rows (or columns) per unit of the thread split: a multiple of every backend's
    /// register tile, so that where the split falls does not move a row between a full tile and an
    /// edge tile (which OpenBLAS computes with other kernels). Any run of whole blocks gives the
    /// bits of the same rows computed in one call, so it does not matter how the blocks are shared
    /// out (<see cref="KernelWorkers"/> runs a job in one piece when its helpers are busy).</summary>
    const int SplitBlock = 48;

    private struct SplitJob : IRangeJob
    {
        public bool TransA, TransB, SplitRows, Blas;
        public int M, N, K, Lda, Ldb, Ldc;
        public float Alpha, Beta;
        public float* A, B, C;

        public readonly void Run(int startBlock, int endBlock)
        {
            int start = startBlock * SplitBlock, end = Math.Min(endBlock * SplitBlock, SplitRows ? M : N);
            if (SplitRows)
                Product(end - start, N, A + (TransA ? start : (long)start * Lda), B, C + (long)start * Ldc);
            else
                Product(M, end - start, A, B + (TransB ? (long)start * Ldb : start), C + start);
        }

        readonly void Product(int m, int n, float* a, float* b, float* c)
        {
            if (Blas) OpenBlas.Sgemm(TransA, TransB, m, n, K, Alpha, a, Lda, b, Ldb, Beta, c, Ldc, 1);
            else ManagedGemm.Sgemm(TransA, TransB, m, n, K, Alpha, a, Lda, b, Ldb, Beta, c, Ldc);
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
        if (batch > 1 && m > 0 && n > 0 && strideC < (long)(m - 1) * ldc + n)
            throw new ArgumentException($"Gemm: batched outputs overlap (strideC {strideC} < one {m}×{n} block with ldc {ldc})");
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
