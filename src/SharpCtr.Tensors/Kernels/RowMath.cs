using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Copy and add of one short row (embedding rows are 8–64 floats): inline vector code, because a
/// library call per row costs more than the row. No range checks: callers guarantee the ranges.
/// </summary>
internal static class RowMath
{
    /// <summary>dst[dstOffset..+dim] = src[srcOffset..+dim].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyRow(float[] src, int srcOffset, float[] dst, int dstOffset, int dim)
    {
        ref float s = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(src), (nint)srcOffset);
        ref float d = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(dst), (nint)dstOffset);
        int j = 0;
        if (Avx512F.IsSupported)
            for (; j + 16 <= dim; j += 16) Vector512.StoreUnsafe(Vector512.LoadUnsafe(ref s, (nuint)j), ref d, (nuint)j);
        for (; j + 8 <= dim; j += 8) Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref s, (nuint)j), ref d, (nuint)j);
        for (; j < dim; j++) Unsafe.Add(ref d, j) = Unsafe.Add(ref s, j);
    }

    /// <summary>dst[dstOffset..+dim] += src[srcOffset..+dim].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddRow(float[] src, int srcOffset, float[] dst, int dstOffset, int dim)
    {
        ref float s = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(src), (nint)srcOffset);
        ref float d = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(dst), (nint)dstOffset);
        int j = 0;
        if (Avx512F.IsSupported)
            for (; j + 16 <= dim; j += 16)
                Vector512.StoreUnsafe(Vector512.LoadUnsafe(ref d, (nuint)j) + Vector512.LoadUnsafe(ref s, (nuint)j), ref d, (nuint)j);
        for (; j + 8 <= dim; j += 8)
            Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref d, (nuint)j) + Vector256.LoadUnsafe(ref s, (nuint)j), ref d, (nuint)j);
        for (; j < dim; j++) Unsafe.Add(ref d, j) += Unsafe.Add(ref s, j);
    }

    /// <summary>dst[dstOffset..+dim] += src[srcOffset..+dim]·scale (multiply, then add: not fused, so it
    /// rounds as TensorPrimitives.MultiplyAdd does).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddScaledRow(float[] src, int srcOffset, float scale, float[] dst, int dstOffset, int dim)
    {
        ref float s = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(src), (nint)srcOffset);
        ref float d = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(dst), (nint)dstOffset);
        int j = 0;
        if (Avx512F.IsSupported)
        {
            var k = Vector512.Create(scale);
            for (; j + 16 <= dim; j += 16)
                Vector512.StoreUnsafe(Vector512.LoadUnsafe(ref s, (nuint)j) * k + Vector512.LoadUnsafe(ref d, (nuint)j), ref d, (nuint)j);
        }
        var k8 = Vector256.Create(scale);
        for (; j + 8 <= dim; j += 8)
            Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref s, (nuint)j) * k8 + Vector256.LoadUnsafe(ref d, (nuint)j), ref d, (nuint)j);
        for (; j < dim; j++) Unsafe.Add(ref d, j) += Unsafe.Add(ref s, j) * scale;
    }

    /// <summary>row[offset..+dim] *= scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScaleRow(float[] row, int offset, float scale, int dim)
    {
        ref float d = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(row), (nint)offset);
        int j = 0;
        if (Avx512F.IsSupported)
            for (; j + 16 <= dim; j += 16) Vector512.StoreUnsafe(Vector512.LoadUnsafe(ref d, (nuint)j) * scale, ref d, (nuint)j);
        for (; j + 8 <= dim; j += 8) Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref d, (nuint)j) * scale, ref d, (nuint)j);
        for (; j < dim; j++) Unsafe.Add(ref d, j) *= scale;
    }

    /// <summary>
    /// dst[dstOffset..+dim] = scale · Σ table rows ids[idStart..+count] (ids equal to
    /// <paramref name="skipId"/> skipped), for dim ≤ 16: the sum stays in one register, added in
    /// id order, and is scaled once (the same bits as adding row by row into a zeroed dst and then
    /// scaling it). Checks the ids on the way (one pass, not a checking pass before the sum):
    /// returns the position of the first id outside [0, vocab), or −1; dst is then not written.
    /// </summary>
    public static unsafe int SumRowsShort(float[] table, int dim, int vocab, int[] ids, int idStart, int count, int skipId, float scale, float[] dst, int dstOffset)
    {
        fixed (float* pt = table, pd = dst)
        fixed (int* pi = ids)
        {
            int* bag = pi + idStart;
            if (dim == 1)
            {
                // A first-order (width-1) table: a scalar sum, the same adds as lane 0 of the vector's.
                float sum = 0;
                for (int l = 0; l < count; l++)
                {
                    int id = bag[l];
                    if ((uint)id >= (uint)vocab) return l;
                    if (id != skipId) sum += pt[id];
                }
                pd[dstOffset] = scale == 1f ? sum : sum * scale;
                return -1;
            }
            var acc = Vector512<float>.Zero;
            for (int l = 0; l < count; l++)
            {
                int id = bag[l];
                if ((uint)id >= (uint)vocab) return l;
                if (id != skipId) acc += VectorMath.LoadPartial(pt + (long)id * dim, dim);
            }
            VectorMath.StorePartial(scale == 1f ? acc : acc * scale, pd + dstOffset, dim);
            return -1;
        }
    }
}
