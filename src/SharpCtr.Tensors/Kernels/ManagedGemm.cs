using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Row-major single-precision GEMM in managed code, used when OpenBLAS is absent and for shapes
/// too small to pay its call overhead. Classic Goto/BLIS structure: op(B) is packed into
/// 32-column panels and op(A) into 6-row panels (which also absorbs any transposition), and a
/// 6×32 register tile (12 AVX-512 accumulators) runs over K. K is blocked in a fixed order, so
/// each output element sees the same sequence of operations however the rows are split between
/// threads: results are bit-identical for any thread count.
/// </summary>
[SkipLocalsInit]
internal static unsafe class ManagedGemm
{
    // KC keeps a 32-column B micro-panel (KC·32·4 bytes = 16 KB) in the 32 KB L1 while the A
    // panels (MC·KC) stay in L2.
    private const int MR = 6, NR = 32, KC = 128, MC = 96, NC = 1024;

    // One packing buffer per thread, allocated once and kept (threads are pooled and few).
    [ThreadStatic] private static nint packABuffer;
    [ThreadStatic] private static nint packBBuffer;

    // .NET reports Vector512 as not accelerated on Skylake/Cascade Lake (it prefers 256-bit
    // vectors there to avoid clock throttling), but the AVX-512 instructions are still emitted and
    // this FMA-bound kernel runs ~2× faster with them.
    private static readonly bool Use512 = Vector512.IsHardwareAccelerated || Avx512F.IsSupported;

    public static string Isa =>
        Use512 ? "AVX-512 6x32" :
        Vector256.IsHardwareAccelerated ? "Vector256 6x32" : "scalar";

    /// <summary>C[m×n] = alpha·op(A)·op(B) + beta·C on the calling thread.</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (m <= 0 || n <= 0) return;
        if (k <= 0 || alpha == 0f)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        if (packABuffer == 0) packABuffer = (nint)NativeMemory.AlignedAlloc((nuint)(MC * KC * sizeof(float)), 64);
        if (packBBuffer == 0) packBBuffer = (nint)NativeMemory.AlignedAlloc((nuint)(NC * KC * sizeof(float)), 64);
        float* pa = (float*)packABuffer, pb = (float*)packBBuffer;

        for (int jc = 0; jc < n; jc += NC)
        {
            int nc = Math.Min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                PackB(transB, b, ldb, pc, jc, kc, nc, pb);
                bool first = pc == 0;
                float betaHere = first ? beta : 1f;
                bool readC = !(first && beta == 0f);
                for (int ic = 0; ic < m; ic += MC)
                {
                    int mc = Math.Min(MC, m - ic);
                    PackA(transA, a, lda, ic, pc, mc, kc, pa);
                    for (int jr = 0; jr < nc; jr += NR)
                    {
                        int cols = Math.Min(NR, nc - jr);
                        for (int ir = 0; ir < mc; ir += MR)
                        {
                            int rows = Math.Min(MR, mc - ir);
                            float* cTile = c + (long)(ic + ir) * ldc + jc + jr;
                            MicroTile(kc, pa + ir * kc, pb + jr * kc, cTile, ldc, rows, cols, alpha, betaHere, readC);
                        }
                    }
                }
            }
        }
    }

    private static void ScaleC(int m, int n, float beta, float* c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    /// <summary>op(B)[pc.., jc..] → panels of NR columns, each kc×NR row-major, zero-padded.</summary>
    private static void PackB(bool transB, float* b, int ldb, int pc, int jc, int kc, int nc, float* dst)
    {
        for (int jr = 0; jr < nc; jr += NR)
        {
            int cols = Math.Min(NR, nc - jr);
            float* panel = dst + jr * kc;
            if (!transB)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (long)(pc + p) * ldb + jc + jr;
                    float* d = panel + p * NR;
                    if (cols == NR)
                    {
                        Vector512.Store(Vector512.Load(src), d);
                        Vector512.Store(Vector512.Load(src + 16), d + 16);
                    }
                    else
                    {
                        int j = 0;
                        for (; j < cols; j++) d[j] = src[j];
                        for (; j < NR; j++) d[j] = 0f;
                    }
                }
            }
            else
            {
                for (int j = 0; j < NR; j++)
                {
                    if (j < cols)
                    {
                        float* src = b + (long)(jc + jr + j) * ldb + pc;
                        for (int p = 0; p < kc; p++) panel[p * NR + j] = src[p];
                    }
                    else
                    {
                        for (int p = 0; p < kc; p++) panel[p * NR + j] = 0f;
                    }
                }
            }
        }
    }

    /// <summary>op(A)[ic.., pc..] → panels of MR rows, each kc×MR (MR values per k), zero-padded.</summary>
    private static void PackA(bool transA, float* a, int lda, int ic, int pc, int mc, int kc, float* dst)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int rows = Math.Min(MR, mc - ir);
            float* panel = dst + ir * kc;
            if (!transA)
            {
                for (int r = 0; r < MR; r++)
                {
                    if (r < rows)
                    {
                        float* src = a + (long)(ic + ir + r) * lda + pc;
                        for (int p = 0; p < kc; p++) panel[p * MR + r] = src[p];
                    }
                    else
                    {
                        for (int p = 0; p < kc; p++) panel[p * MR + r] = 0f;
                    }
                }
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + (long)(pc + p) * lda + ic + ir;
                    float* d = panel + p * MR;
                    int r = 0;
                    for (; r < rows; r++) d[r] = src[r];
                    for (; r < MR; r++) d[r] = 0f;
                }
            }
        }
    }

    private static void MicroTile(int kc, float* pa, float* pb, float* c, int ldc, int rows, int cols,
        float alpha, float beta, bool readC)
    {
        if (Use512)
        {
            // Edge tiles use masked loads/stores: same arithmetic as a full tile, so the bits of an
            // element do not depend on where the tile boundaries fall.
            Micro512(kc, pa, pb, c, ldc, rows, cols, alpha, beta, readC);
            return;
        }
        if (rows == MR && cols == NR)
        {
            if (Vector256.IsHardwareAccelerated) { Micro256(kc, pa, pb, c, ldc, alpha, beta, readC); Micro256(kc, pa, pb + 16, c + 16, ldc, alpha, beta, readC); }
            else MicroScalar(kc, pa, pb, c, ldc, MR, NR, alpha, beta, readC);
            return;
        }
        // Edge tile: compute the full tile into a scratch block, then combine the valid part
        // with C by the same formula as the vector store.
        float* tile = stackalloc float[MR * NR];
        if (Vector256.IsHardwareAccelerated) { Micro256(kc, pa, pb, tile, NR, 1f, 0f, false); Micro256(kc, pa, pb + 16, tile + 16, NR, 1f, 0f, false); }
        else MicroScalar(kc, pa, pb, tile, NR, MR, NR, 1f, 0f, false);
        for (int r = 0; r < rows; r++)
        {
            float* cr = c + (long)r * ldc;
            float* tr = tile + r * NR;
            for (int j = 0; j < cols; j++)
                cr[j] = readC ? tr[j] * alpha + beta * cr[j] : tr[j] * alpha;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro512(int kc, float* pa, float* pb, float* c, int ldc, int rows, int cols, float alpha, float beta, bool readC)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(pb);
            var b1 = Vector512.Load(pb + 16);
            var a = Vector512.Create(pa[0]);
            c00 = Vector512.FusedMultiplyAdd(a, b0, c00); c01 = Vector512.FusedMultiplyAdd(a, b1, c01);
            a = Vector512.Create(pa[1]);
            c10 = Vector512.FusedMultiplyAdd(a, b0, c10); c11 = Vector512.FusedMultiplyAdd(a, b1, c11);
            a = Vector512.Create(pa[2]);
            c20 = Vector512.FusedMultiplyAdd(a, b0, c20); c21 = Vector512.FusedMultiplyAdd(a, b1, c21);
            a = Vector512.Create(pa[3]);
            c30 = Vector512.FusedMultiplyAdd(a, b0, c30); c31 = Vector512.FusedMultiplyAdd(a, b1, c31);
            a = Vector512.Create(pa[4]);
            c40 = Vector512.FusedMultiplyAdd(a, b0, c40); c41 = Vector512.FusedMultiplyAdd(a, b1, c41);
            a = Vector512.Create(pa[5]);
            c50 = Vector512.FusedMultiplyAdd(a, b0, c50); c51 = Vector512.FusedMultiplyAdd(a, b1, c51);
            pa += MR;
            pb += NR;
        }
        if (rows == MR && cols == NR)
        {
            Store512(c, c00, c01, alpha, beta, readC);
            Store512(c + ldc, c10, c11, alpha, beta, readC);
            Store512(c + 2L * ldc, c20, c21, alpha, beta, readC);
            Store512(c + 3L * ldc, c30, c31, alpha, beta, readC);
            Store512(c + 4L * ldc, c40, c41, alpha, beta, readC);
            Store512(c + 5L * ldc, c50, c51, alpha, beta, readC);
            return;
        }
        var lanes = Vector512<int>.Indices;
        var m0 = Vector512.LessThan(lanes, Vector512.Create(cols)).AsSingle();
        var m1 = Vector512.LessThan(lanes, Vector512.Create(cols - 16)).AsSingle();
        StoreMasked512(c, c00, c01, m0, m1, alpha, beta, readC);
        if (rows > 1) StoreMasked512(c + ldc, c10, c11, m0, m1, alpha, beta, readC);
        if (rows > 2) StoreMasked512(c + 2L * ldc, c20, c21, m0, m1, alpha, beta, readC);
        if (rows > 3) StoreMasked512(c + 3L * ldc, c30, c31, m0, m1, alpha, beta, readC);
        if (rows > 4) StoreMasked512(c + 4L * ldc, c40, c41, m0, m1, alpha, beta, readC);
        if (rows > 5) StoreMasked512(c + 5L * ldc, c50, c51, m0, m1, alpha, beta, readC);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> v0, Vector512<float> v1, float alpha, float beta, bool readC)
    {
        var va = Vector512.Create(alpha);
        v0 *= va;
        v1 *= va;
        if (readC)
        {
            var vb = Vector512.Create(beta);
            v0 += vb * Vector512.Load(c);
            v1 += vb * Vector512.Load(c + 16);
        }
        Vector512.Store(v0, c);
        Vector512.Store(v1, c + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreMasked512(float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> m0, Vector512<float> m1,
        float alpha, float beta, bool readC)
    {
        var va = Vector512.Create(alpha);
        v0 *= va;
        v1 *= va;
        if (readC)
        {
            var vb = Vector512.Create(beta);
            v0 += vb * Avx512F.MaskLoad(c, m0, Vector512<float>.Zero);
            v1 += vb * Avx512F.MaskLoad(c + 16, m1, Vector512<float>.Zero);
        }
        Avx512F.MaskStore(c, m0, v0);
        Avx512F.MaskStore(c + 16, m1, v1);
    }

    /// <summary>6×16 half of the tile with AVX2 (12 accumulators fit in 16 ymm registers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro256(int kc, float* pa, float* pb, float* c, int ldc, float alpha, float beta, bool readC)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(pb);
            var b1 = Vector256.Load(pb + 8);
            var a = Vector256.Create(pa[0]);
            c00 = Vector256.FusedMultiplyAdd(a, b0, c00); c01 = Vector256.FusedMultiplyAdd(a, b1, c01);
            a = Vector256.Create(pa[1]);
            c10 = Vector256.FusedMultiplyAdd(a, b0, c10); c11 = Vector256.FusedMultiplyAdd(a, b1, c11);
            a = Vector256.Create(pa[2]);
            c20 = Vector256.FusedMultiplyAdd(a, b0, c20); c21 = Vector256.FusedMultiplyAdd(a, b1, c21);
            a = Vector256.Create(pa[3]);
            c30 = Vector256.FusedMultiplyAdd(a, b0, c30); c31 = Vector256.FusedMultiplyAdd(a, b1, c31);
            a = Vector256.Create(pa[4]);
            c40 = Vector256.FusedMultiplyAdd(a, b0, c40); c41 = Vector256.FusedMultiplyAdd(a, b1, c41);
            a = Vector256.Create(pa[5]);
            c50 = Vector256.FusedMultiplyAdd(a, b0, c50); c51 = Vector256.FusedMultiplyAdd(a, b1, c51);
            pa += MR;
            pb += NR;
        }
        Store256(c, c00, c01, alpha, beta, readC);
        Store256(c + ldc, c10, c11, alpha, beta, readC);
        Store256(c + 2L * ldc, c20, c21, alpha, beta, readC);
        Store256(c + 3L * ldc, c30, c31, alpha, beta, readC);
        Store256(c + 4L * ldc, c40, c41, alpha, beta, readC);
        Store256(c + 5L * ldc, c50, c51, alpha, beta, readC);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> v0, Vector256<float> v1, float alpha, float beta, bool readC)
    {
        var va = Vector256.Create(alpha);
        v0 *= va;
        v1 *= va;
        if (readC)
        {
            var vb = Vector256.Create(beta);
            v0 += vb * Vector256.Load(c);
            v1 += vb * Vector256.Load(c + 8);
        }
        Vector256.Store(v0, c);
        Vector256.Store(v1, c + 8);
    }

    private static void MicroScalar(int kc, float* pa, float* pb, float* c, int ldc, int rows, int cols, float alpha, float beta, bool readC)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < cols; j++)
            {
                float acc = 0f;
                for (int p = 0; p < kc; p++) acc = MathF.FusedMultiplyAdd(pa[p * MR + r], pb[p * NR + j], acc);
                float* cp = c + (long)r * ldc + j;
                *cp = readC ? acc * alpha + beta * *cp : acc * alpha;
            }
        }
    }
}
