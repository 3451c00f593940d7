namespace SharpCtr.Tensors;

/// <summary>
/// NumPy-style broadcasting of two shapes. Binary ops take the fast paths (same shape, scalar,
/// or one operand repeating as a trailing block) and fall back to strided iteration otherwise.
/// </summary>
internal readonly struct Broadcast
{
    public readonly int[] OutShape;
    // Strides over the padded output rank; 0 on broadcast axes.
    public readonly int[] StrideA, StrideB, OutDims;

    public Broadcast(int[] a, int[] b, string op)
    {
        int r = Math.Max(a.Length, b.Length);
        OutShape = new int[r];
        OutDims = new int[r];
        StrideA = new int[r];
        StrideB = new int[r];
        int sa = 1, sb = 1;
        for (int i = r - 1; i >= 0; i--)
        {
            int da = i - (r - a.Length) >= 0 ? a[i - (r - a.Length)] : 1;
            int db = i - (r - b.Length) >= 0 ? b[i - (r - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {Tensor.ShapeString(a)} and {Tensor.ShapeString(b)} do not broadcast (axis {i}: {da} vs {db})");
            int d = Math.Max(da, db);
            OutShape[i] = d;
            OutDims[i] = d;
            StrideA[i] = da == 1 ? 0 : sa;
            StrideB[i] = db == 1 ? 0 : sb;
            sa *= da;
            sb *= db;
        }
    }

    /// <summary>Index into A and B for every output element, in output order (general path).</summary>
    public void ForEach(Action<int, int, int> body)
    {
        int r = OutShape.Length;
        int n = Tensor.SizeOf(OutShape);
        Span<int> idx = stackalloc int[Math.Max(r, 1)];
        int ia = 0, ib = 0;
        for (int o = 0; o < n; o++)
        {
            body(o, ia, ib);
            for (int ax = r - 1; ax >= 0; ax--)
            {
                idx[ax]++;
                ia += StrideA[ax];
                ib += StrideB[ax];
                if (idx[ax] < OutDims[ax]) break;
                ia -= StrideA[ax] * OutDims[ax];
                ib -= StrideB[ax] * OutDims[ax];
                idx[ax] = 0;
            }
        }
    }

    /// <summary>True when <paramref name="small"/> equals the trailing axes of <paramref name="big"/> (leading 1s allowed).</summary>
    public static bool IsTrailingBlock(int[] big, int[] small)
    {
        int s = 0;
        while (s < small.Length && small[s] == 1) s++;
        int n = small.Length - s;
        if (n > big.Length) return false;
        for (int i = 0; i < n; i++)
            if (small[s + i] != big[big.Length - n + i]) return false;
        return true;
    }

    public static bool SameShape(int[] a, int[] b) => a.AsSpan().SequenceEqual(b);
}
