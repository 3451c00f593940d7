using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Products of a few rows with a small weight matrix, register-blocked: 4 rows × 64 (or 32, 16)
/// columns of accumulators, one broadcast of a[i, p] per row and one load of b's row p per 16
/// columns. For the fused scoring kernels, where rows are few and k is small, so a general GEMM
/// spends its time packing and dispatching rather than multiplying.
/// A frozen layer's weight is packed once (<see cref="Pack"/>): each column block stored as
/// contiguous [k, width] rows, which lets a 6-row × 64-column block (24 accumulators, 10 loads
/// per 24 FMAs instead of 8 per 16) stream its panel: 1.26–1.39× the unpacked 4-row kernel on
/// the request MLP (`bench kernels --only mlp_`, docs/BENCHMARKS.md). Every kernel here sums p = 0..k−1 in order with one FMA
/// per step, so all of them give the same bits; the Active kernels leave out positions whose 4
/// inputs are all ±0, which add nothing, so they give the same values (a zero's sign aside).
/// </summary>
[SkipLocalsInit]
internal static unsafe class SmallMatMul
{
    /// <summary>The AVX-512 blocks where the CPU has AVX-512, else <see cref="Strips256"/>. The
    /// overloads that take it are for tests, which hold each path to the other's bits on any CPU
    /// (rather than a settable switch: packed weights depend on it, and must not change under a
    /// frozen model).</summary>
    static readonly bool Wide = Avx512F.IsSupported;

    /// <summary>c[rows, n] = a[rows, k]·b[k, n]; rows a multiple of 4, n a multiple of 16.</summary>
    public static void Rows4(float* a, int rows, int k, float* b, int n, float* c) => Rows4(a, rows, k, b, n, c, Wide);

    internal static void Rows4(float* a, int rows, int k, float* b, int n, float* c, bool wide)
    {
        if (!wide)
        {
            for (int j = 0; j < n; j += 16) Strips256(a, rows, k, b + j, n, c + j, n);
            return;
        }
        for (int i = 0; i < rows; i += 4)
        {
            float* a0 = a + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
            int j = 0;
            for (; j + 64 <= n; j += 64) Block4x64(a0, a1, a2, a3, k, b + j, n, c + i * n + j, n);
            for (; j + 32 <= n; j += 32) Block4x32(a0, a1, a2, a3, k, b + j, n, c + i * n + j, n);
            for (; j < n; j += 16) Block4x16(a0, a1, a2, a3, k, b + j, n, c + i * n + j, n);
        }
    }

    /// <summary>Block width at column j of an n-wide matrix: 64 while it fits, then 32, then 16 (as <see cref="Rows4"/> walks it);
    /// without AVX-512 always 16, the 256-bit strips' width (their panel then streams contiguously:
    /// `mlp_100x208_256x3_packed_us` 696 → 561–616 µs on a Zen 3).</summary>
    static int BlockWidth(int j, int n, bool wide) => !wide ? 16 : j + 64 <= n ? 64 : j + 32 <= n ? 32 : 16;

    /// <summary>b [k, n] packed as its column blocks one after another, each [k, width] row-major;
    /// null when n is not a multiple of 16 (no kernel here takes such a width). The layout follows
    /// the kernels (<see cref="Wide"/>), which <see cref="RowsPacked"/> must share.</summary>
    public static float[]? Pack(float[] b, int k, int n) => Pack(b, k, n, Wide);

    internal static float[]? Pack(float[] b, int k, int n, bool wide)
    {
        if (n % 16 != 0) return null;
        var packed = new float[k * n];
        for (int j = 0, o = 0; j < n; j += BlockWidth(j, n, wide))
        {
            int w = BlockWidth(j, n, wide);
            for (int p = 0; p < k; p++, o += w) Array.Copy(b, p * n + j, packed, o, w);
        }
        return packed;
    }

    /// <summary>c[rows, n] = a[rows, k]·b[k, n] from b packed by <see cref="Pack"/>; rows a multiple of 4, n of 16.</summary>
    public static void RowsPacked(float* a, int rows, int k, float* packed, int n, float* c) => RowsPacked(a, rows, k, packed, n, c, Wide);

    internal static void RowsPacked(float* a, int rows, int k, float* packed, int n, float* c, bool wide)
    {
        if (!wide)
        {
            for (int j = 0; j < n; j += 16) Strips256(a, rows, k, packed + (long)j * k, 16, c + j, n);
            return;
        }
        // an even number of 6-row groups leaves a multiple of 4 rows for the 4-row kernel
        int six = rows / 6 & ~1;
        for (int j = 0; j < n; j += BlockWidth(j, n, wide))
        {
            int w = BlockWidth(j, n, wide);
            float* panel = packed + (long)j * k;
            int i = 0;
            if (w == 64)
                for (; i < six * 6; i += 6) Block6x64(a + i * k, k, panel, c + i * n + j, n);
            for (; i < rows; i += 4)
            {
                float* a0 = a + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
                if (w == 64) Block4x64(a0, a1, a2, a3, k, panel, 64, c + i * n + j, n);
                else if (w == 32) Block4x32(a0, a1, a2, a3, k, panel, 32, c + i * n + j, n);
                else Block4x16(a0, a1, a2, a3, k, panel, 16, c + i * n + j, n);
            }
        }
    }

    /// <summary>
    /// For an <paramref name="a"/> that comes out of a ReLU (DeepFM's request MLP: 61–65 % of the
    /// hidden values are 0, and in 41–43 % of the positions all 4 rows of a block are): per block
    /// of 4 rows, the positions p where at least one of the 4 rows is not 0, in increasing order,
    /// at lists[block·k …], their number at counts[block], and the block's values at those
    /// positions interleaved, [count, 4], at packedA[block·4k …] (so the products read them in
    /// order rather than from four rows at scattered positions). Returns the total over the blocks.
    /// </summary>
    internal static int ActivePositions(float* a, int rows, int k, int* lists, int* counts, float* packedA)
    {
        int total = 0;
        for (int i = 0, block = 0; i < rows; i += 4, block++)
        {
            float* a0 = a + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
            int* list = lists + block * k;
            int n = 0, p = 0;
            for (; p + 8 <= k; p += 8)
            {
                var any = Vector256.Load(a0 + p) | Vector256.Load(a1 + p) | Vector256.Load(a2 + p) | Vector256.Load(a3 + p);
                // bitwise OR of the four: 0 only where all four are ±0 (−0 has only the sign bit, cleared below)
                uint mask = Vector256.ExtractMostSignificantBits(
                    Vector256.Equals(any.AsUInt32() & Vector256.Create(0x7FFF_FFFFu), Vector256<uint>.Zero)) ^ 0xFFu;
                while (mask != 0)
                {
                    list[n++] = p + System.Numerics.BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                }
            }
            for (; p < k; p++) if (a0[p] != 0 || a1[p] != 0 || a2[p] != 0 || a3[p] != 0) list[n++] = p;
            counts[block] = n;
            total += n;
            float* packed = packedA + i * k;
            for (int t = 0; t < n; t++)
            {
                int q = list[t];
                packed[4 * t] = a0[q]; packed[4 * t + 1] = a1[q]; packed[4 * t + 2] = a2[q]; packed[4 * t + 3] = a3[q];
            }
        }
        return total;
    }

    /// <summary>
    /// <see cref="RowsPacked"/> over the positions <see cref="ActivePositions"/> found: a position
    /// where all 4 rows of a block are 0 adds 0 to each of their sums, so leaving it out gives the
    /// same values (the sums run over the rest in the same order; only a 0's sign may differ).
    /// </summary>
    internal static void RowsPackedActive(float* packedA, int rows, int k, float* packed, int n, float* c, int* lists, int* counts) =>
        RowsPackedActive(packedA, rows, k, packed, n, c, lists, counts, Wide);

    internal static void RowsPackedActive(float* packedA, int rows, int k, float* packed, int n, float* c, int* lists, int* counts, bool wide)
    {
        for (int j = 0; j < n; j += BlockWidth(j, n, wide))
        {
            int w = BlockWidth(j, n, wide);
            float* panel = packed + (long)j * k;
            for (int i = 0, block = 0; i < rows; i += 4, block++)
            {
                float* a0 = packedA + i * k;
                int* list = lists + block * k;
                int count = counts[block];
                float* ci = c + i * n + j;
                if (!wide) Active256x16(a0, list, count, panel, ci, n);
                else if (w == 64) Active4x64(a0, list, count, panel, ci, n);
                else if (w == 32) Active4x32(a0, list, count, panel, 32, ci, n);
                else Active4x16(a0, list, count, panel, 16, ci, n);
            }
        }
    }

    /// <summary>4 rows × 16 columns in 256-bit vectors over the listed positions (<see cref="Strips256"/>'s FMAs, fewer of them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Active256x16(float* ap, int* list, int count, float* b, float* c, int ldc)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int t = 0; t < count; t++, ap += 4)
        {
            float* bp = b + list[t] * 16;
            var b0 = Vector256.Load(bp); var b1 = Vector256.Load(bp + 8);
            var x = Vector256.Create(ap[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(ap[1]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(ap[2]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(ap[3]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
        }
        Vector256.Store(c00, c); Vector256.Store(c01, c + 8); c += ldc;
        Vector256.Store(c10, c); Vector256.Store(c11, c + 8); c += ldc;
        Vector256.Store(c20, c); Vector256.Store(c21, c + 8); c += ldc;
        Vector256.Store(c30, c); Vector256.Store(c31, c + 8);
    }

    /// <summary>
    /// 4 rows × one packed 64-column panel over the listed positions (<see cref="Block4x64"/>'s FMAs):
    /// 16 accumulators, so each listed position's index, address and 4 broadcasts serve 16 FMAs. Two
    /// 4×32 passes over the same list ran at ~90 % of the dense kernel's FMA rate on a Zen 4, this at ~97 %.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Active4x64(float* ap, int* list, int count, float* panel, float* c, int ldc)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        for (int t = 0; t < count; t++, ap += 4)
        {
            float* bp = panel + list[t] * 64;
            var b0 = Vector512.Load(bp); var b1 = Vector512.Load(bp + 16); var b2 = Vector512.Load(bp + 32); var b3 = Vector512.Load(bp + 48);
            var x = Vector512.Create(ap[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01); c02 = Vector512.FusedMultiplyAdd(x, b2, c02); c03 = Vector512.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Create(ap[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11); c12 = Vector512.FusedMultiplyAdd(x, b2, c12); c13 = Vector512.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Create(ap[2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21); c22 = Vector512.FusedMultiplyAdd(x, b2, c22); c23 = Vector512.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Create(ap[3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31); c32 = Vector512.FusedMultiplyAdd(x, b2, c32); c33 = Vector512.FusedMultiplyAdd(x, b3, c33);
        }
        Vector512.Store(c00, c); Vector512.Store(c01, c + 16); Vector512.Store(c02, c + 32); Vector512.Store(c03, c + 48); c += ldc;
        Vector512.Store(c10, c); Vector512.Store(c11, c + 16); Vector512.Store(c12, c + 32); Vector512.Store(c13, c + 48); c += ldc;
        Vector512.Store(c20, c); Vector512.Store(c21, c + 16); Vector512.Store(c22, c + 32); Vector512.Store(c23, c + 48); c += ldc;
        Vector512.Store(c30, c); Vector512.Store(c31, c + 16); Vector512.Store(c32, c + 32); Vector512.Store(c33, c + 48);
    }

    /// <summary>4 rows × 32 columns of a panel with row stride ldb, over the listed positions (<see cref="Block4x32"/>'s FMAs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Active4x32(float* ap, int* list, int count, float* b, int ldb, float* c, int ldc)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int t = 0; t < count; t++, ap += 4)
        {
            float* bp = b + list[t] * ldb;
            var b0 = Vector512.Load(bp); var b1 = Vector512.Load(bp + 16);
            var x = Vector512.Create(ap[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(ap[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(ap[2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(ap[3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
        }
        Vector512.Store(c00, c); Vector512.Store(c01, c + 16); c += ldc;
        Vector512.Store(c10, c); Vector512.Store(c11, c + 16); c += ldc;
        Vector512.Store(c20, c); Vector512.Store(c21, c + 16); c += ldc;
        Vector512.Store(c30, c); Vector512.Store(c31, c + 16);
    }

    /// <summary>4 rows × 16 columns over the listed positions (<see cref="Block4x16"/>'s FMAs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Active4x16(float* ap, int* list, int count, float* b, int ldb, float* c, int ldc)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int t = 0; t < count; t++, ap += 4)
        {
            var bv = Vector512.Load(b + list[t] * ldb);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[0]), bv, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[1]), bv, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[2]), bv, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[3]), bv, c3);
        }
        Vector512.Store(c0, c); Vector512.Store(c1, c + ldc); Vector512.Store(c2, c + 2 * ldc); Vector512.Store(c3, c + 3 * ldc);
    }

    /// <summary>6 consecutive rows of a (row stride k) × one packed 64-column panel: 24 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Block6x64(float* a, int k, float* panel, float* c, int ldc)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector512<float> c50 = default, c51 = default, c52 = default, c53 = default;
        float* bp = panel;
        for (float* ap = a, end = a + k; ap < end; ap++, bp += 64)
        {
            var b0 = Vector512.Load(bp); var b1 = Vector512.Load(bp + 16); var b2 = Vector512.Load(bp + 32); var b3 = Vector512.Load(bp + 48);
            var x = Vector512.Create(ap[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01); c02 = Vector512.FusedMultiplyAdd(x, b2, c02); c03 = Vector512.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Create(ap[k]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11); c12 = Vector512.FusedMultiplyAdd(x, b2, c12); c13 = Vector512.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Create(ap[2 * k]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21); c22 = Vector512.FusedMultiplyAdd(x, b2, c22); c23 = Vector512.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Create(ap[3 * k]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31); c32 = Vector512.FusedMultiplyAdd(x, b2, c32); c33 = Vector512.FusedMultiplyAdd(x, b3, c33);
            x = Vector512.Create(ap[4 * k]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41); c42 = Vector512.FusedMultiplyAdd(x, b2, c42); c43 = Vector512.FusedMultiplyAdd(x, b3, c43);
            x = Vector512.Create(ap[5 * k]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51); c52 = Vector512.FusedMultiplyAdd(x, b2, c52); c53 = Vector512.FusedMultiplyAdd(x, b3, c53);
        }
        Vector512.Store(c00, c); Vector512.Store(c01, c + 16); Vector512.Store(c02, c + 32); Vector512.Store(c03, c + 48); c += ldc;
        Vector512.Store(c10, c); Vector512.Store(c11, c + 16); Vector512.Store(c12, c + 32); Vector512.Store(c13, c + 48); c += ldc;
        Vector512.Store(c20, c); Vector512.Store(c21, c + 16); Vector512.Store(c22, c + 32); Vector512.Store(c23, c + 48); c += ldc;
        Vector512.Store(c30, c); Vector512.Store(c31, c + 16); Vector512.Store(c32, c + 32); Vector512.Store(c33, c + 48); c += ldc;
        Vector512.Store(c40, c); Vector512.Store(c41, c + 16); Vector512.Store(c42, c + 32); Vector512.Store(c43, c + 48); c += ldc;
        Vector512.Store(c50, c); Vector512.Store(c51, c + 16); Vector512.Store(c52, c + 32); Vector512.Store(c53, c + 48);
    }

    /// <summary>4 rows × 64 columns: 16 accumulators, 4 loads and 4 broadcasts per 16 FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Block4x64(float* a0, float* a1, float* a2, float* a3, int k, float* b, int ldb, float* c, int ldc)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        for (int p = 0; p < k; p++)
        {
            float* bp = b + p * ldb;
            var b0 = Vector512.Load(bp); var b1 = Vector512.Load(bp + 16); var b2 = Vector512.Load(bp + 32); var b3 = Vector512.Load(bp + 48);
            var x = Vector512.Create(a0[p]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01); c02 = Vector512.FusedMultiplyAdd(x, b2, c02); c03 = Vector512.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Create(a1[p]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11); c12 = Vector512.FusedMultiplyAdd(x, b2, c12); c13 = Vector512.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Create(a2[p]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21); c22 = Vector512.FusedMultiplyAdd(x, b2, c22); c23 = Vector512.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Create(a3[p]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31); c32 = Vector512.FusedMultiplyAdd(x, b2, c32); c33 = Vector512.FusedMultiplyAdd(x, b3, c33);
        }
        Vector512.Store(c00, c); Vector512.Store(c01, c + 16); Vector512.Store(c02, c + 32); Vector512.Store(c03, c + 48);
        c += ldc;
        Vector512.Store(c10, c); Vector512.Store(c11, c + 16); Vector512.Store(c12, c + 32); Vector512.Store(c13, c + 48);
        c += ldc;
        Vector512.Store(c20, c); Vector512.Store(c21, c + 16); Vector512.Store(c22, c + 32); Vector512.Store(c23, c + 48);
        c += ldc;
        Vector512.Store(c30, c); Vector512.Store(c31, c + 16); Vector512.Store(c32, c + 32); Vector512.Store(c33, c + 48);
    }

    /// <summary>4 rows × 32 columns (DIN's second layer): 8 accumulators keep both FMA ports busy, where 4 would wait on latency.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Block4x32(float* a0, float* a1, float* a2, float* a3, int k, float* b, int ldb, float* c, int ldc)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < k; p++)
        {
            float* bp = b + p * ldb;
            var b0 = Vector512.Load(bp); var b1 = Vector512.Load(bp + 16);
            var x = Vector512.Create(a0[p]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[p]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[p]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[p]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
        }
        Vector512.Store(c00, c); Vector512.Store(c01, c + 16); c += ldc;
        Vector512.Store(c10, c); Vector512.Store(c11, c + 16); c += ldc;
        Vector512.Store(c20, c); Vector512.Store(c21, c + 16); c += ldc;
        Vector512.Store(c30, c); Vector512.Store(c31, c + 16);
    }

    /// <summary>
    /// c[rows, 16] = a[rows, k]·b[k, 16] (b's row stride ldb) in 4-row blocks of 256-bit vectors,
    /// for CPUs without AVX-512: there the 64-column blocks' 16–24 Vector512 accumulators need
    /// 32–48 of the 16 ymm registers and spill (DIN's request ran 2.3× PyTorch's on a Zen 3);
    /// 8 accumulators fit. Same order of FMAs per element, so the same bits as the blocks above.
    /// </summary>
    static void Strips256(float* a, int rows, int k, float* b, int ldb, float* c, int ldc)
    {
        for (int i = 0; i < rows; i += 4)
        {
            float* a0 = a + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
            Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
            Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
            float* bp = b;
            for (int p = 0; p < k; p++, bp += ldb)
            {
                var b0 = Vector256.Load(bp); var b1 = Vector256.Load(bp + 8);
                var x = Vector256.Create(a0[p]);
                c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
                x = Vector256.Create(a1[p]);
                c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
                x = Vector256.Create(a2[p]);
                c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
                x = Vector256.Create(a3[p]);
                c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            }
            float* ci = c + i * ldc;
            Vector256.Store(c00, ci); Vector256.Store(c01, ci + 8); ci += ldc;
            Vector256.Store(c10, ci); Vector256.Store(c11, ci + 8); ci += ldc;
            Vector256.Store(c20, ci); Vector256.Store(c21, ci + 8); ci += ldc;
            Vector256.Store(c30, ci); Vector256.Store(c31, ci + 8);
        }
    }

    /// <summary>4 rows × 16 columns, for what is left of a width after the 64- and 32-column blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Block4x16(float* a0, float* a1, float* a2, float* a3, int k, float* b, int ldb, float* c, int ldc)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int p = 0; p < k; p++)
        {
            var bv = Vector512.Load(b + p * ldb);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[p]), bv, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[p]), bv, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[p]), bv, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[p]), bv, c3);
        }
        Vector512.Store(c0, c); Vector512.Store(c1, c + ldc); Vector512.Store(c2, c + 2 * ldc); Vector512.Store(c3, c + 3 * ldc);
    }
}
