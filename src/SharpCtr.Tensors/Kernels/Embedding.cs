namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Embedding lookup: rows of a [vocab, dim] table gathered by ids, and the backward scatter-add
/// of gradient rows. The gradient is sparse: only touched rows are written, and their ids are
/// recorded once each (in first-touch order) so the optimizer updates and clears only those.
/// </summary>
public static unsafe class Embedding
{
    /// <summary>output[i, :] = table[ids[i], :].</summary>
    public static void Gather(ReadOnlySpan<float> table, int vocab, int dim, ReadOnlySpan<int> ids, Span<float> output)
    {
        const string op = "Embedding.Gather";
        Check.Matrix(op, "table", table.Length, vocab, dim);
        Check.Matrix(op, "output", output.Length, ids.Length, dim);
        CheckIds(op, ids, vocab);
        fixed (float* pt = table, po = output)
        fixed (int* pi = ids)
        {
            var job = new GatherJob { Table = pt, Output = po, Ids = pi, Dim = dim };
            KernelThreads.Run(job, ids.Length, KernelThreads.ForElements((long)ids.Length * dim));
        }
    }

    /// <summary>
    /// output[i, :] = table[ids[i], :] for the first <paramref name="n"/> ids, zeros where the id is
    /// <paramref name="paddingIdx"/>; split over the cores when large. Throws (naming the table and
    /// the position) when an id is outside the table.
    /// </summary>
    internal static void GatherRows(float[] table, int vocab, int dim, int[] ids, int n, int paddingIdx, float[] output, string? tableName) =>
        GatherRows(table, vocab, dim, ids, n, paddingIdx, output, 0, dim, tableName);

    /// <summary>As above, row i written at output[outOffset + i·outStride] (a column block of a wider matrix).</summary>
    internal static void GatherRows(float[] table, int vocab, int dim, int[] ids, int n, int paddingIdx, float[] output, int outOffset, int outStride, string? tableName)
    {
        if (dim > 16)
        {
            var used = ids.AsSpan(0, n);
            if (n > 0 && (System.Numerics.Tensors.TensorPrimitives.Min<int>(used) < 0 || System.Numerics.Tensors.TensorPrimitives.Max<int>(used) >= vocab))
                for (int i = 0; i < n; i++)
                    if ((uint)ids[i] >= (uint)vocab) throw IdOutOfRange(ids[i], i, tableName, vocab);
        }
        var job = new GatherRowsJob(table, vocab, ids, dim, paddingIdx, output, outOffset, outStride, tableName);
        KernelThreads.Run(job, n, KernelThreads.ForElements((long)n * dim));
    }

    static ArgumentOutOfRangeException IdOutOfRange(int id, int position, string? tableName, int vocab) =>
        new("ids", $"id {id} at position {position} is outside the embedding table {tableName ?? ""} of {vocab} rows");

    /// <summary>
    /// gradTable[ids[i], :] += gradOutput[i, :] for every i whose id is not <paramref name="paddingIndex"/>;
    /// each row touched for the first time (touched[id] false) is flagged and appended to
    /// <paramref name="touchedRows"/>. Duplicates add in id order: deterministic.
    /// </summary>
    public static void ScatterAddRows(ReadOnlySpan<float> gradOutput, ReadOnlySpan<int> ids, int vocab, int dim,
        Span<float> gradTable, Span<bool> touched, List<int> touchedRows, int paddingIndex = -1)
    {
        const string op = "Embedding.ScatterAddRows";
        Check.Matrix(op, "gradOutput", gradOutput.Length, ids.Length, dim);
        Check.Matrix(op, "gradTable", gradTable.Length, vocab, dim);
        Check.Vector(op, "touched", touched.Length, vocab);
        CheckIds(op, ids, vocab);
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if (id == paddingIndex || touched[id]) continue;
            touched[id] = true;
            touchedRows.Add(id);
        }
        // One thread, ids in order: duplicates add in id order. (Splitting table rows between two
        // threads that each scan all ids measured slower on the shared 2-core VM.)
        fixed (float* pg = gradOutput, pt = gradTable)
        {
            for (int i = 0; i < ids.Length; i++)
            {
                int id = ids[i];
                if (id != paddingIndex) AddRow(pt + (long)id * dim, pg + (long)i * dim, dim);
            }
        }
    }

    /// <summary>Zeroes the touched gradient rows and their flags and empties the list (after an optimizer step).</summary>
    public static void ClearTouchedRows(Span<float> gradTable, int dim, Span<bool> touched, List<int> touchedRows)
    {
        foreach (int id in touchedRows)
        {
            gradTable.Slice(id * dim, dim).Clear();
            touched[id] = false;
        }
        touchedRows.Clear();
    }

    // CTR embedding rows are short (8–64 floats): a direct vector loop beats a library call per row.
    private static void AddRow(float* dst, float* src, int dim)
    {
        for (int d = 0; d < dim; d += 16)
        {
            int n = dim - d;
            VectorMath.StorePartial(VectorMath.LoadPartial(dst + d, n) + VectorMath.LoadPartial(src + d, n), dst + d, n);
        }
    }

    private static void CheckIds(string op, ReadOnlySpan<int> ids, int vocab)
    {
        for (int i = 0; i < ids.Length; i++)
            if ((uint)ids[i] >= (uint)vocab)
                throw new ArgumentOutOfRangeException(nameof(ids), $"{op}: ids[{i}] = {ids[i]} is outside the table's {vocab} rows");
    }

    private readonly struct GatherRowsJob(float[] table, int vocab, int[] ids, int dim, int paddingIdx, float[] output, int outOffset, int outStride, string? tableName) : IRangeJob
    {
        public void Run(int start, int end)
        {
            if (dim <= 16) { RunShort(start, end); return; }
            for (int i = start; i < end; i++)
            {
                int id = ids[i];
                if (id == paddingIdx) output.AsSpan(outOffset + i * outStride, dim).Clear();
                else RowMath.CopyRow(table, id * dim, output, outOffset + i * outStride, dim);
            }
        }

        // Rows of at most 16 floats: one masked load and store each, through pointers (the
        // general path's per-row loop bounds cost as much as the copy), ids checked on the way
        // (a separate min/max pass over them cost as much as a tenth of the copy).
        void RunShort(int start, int end)
        {
            fixed (float* pt = table, po = output)
            fixed (int* pi = ids)
            {
                float* dst = po + outOffset + (long)start * outStride;
                for (int i = start; i < end; i++, dst += outStride)
                {
                    int id = pi[i];
                    if ((uint)id >= (uint)vocab) throw IdOutOfRange(id, i, tableName, vocab);
                    var row = id == paddingIdx ? System.Runtime.Intrinsics.Vector512<float>.Zero : VectorMath.LoadPartial(pt + (long)id * dim, dim);
                    VectorMath.StorePartial(row, dst, dim);
                }
            }
        }
    }

    private struct GatherJob : IRangeJob
    {
        public float* Table, Output;
        public int* Ids;
        public int Dim;

        public readonly void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
                new ReadOnlySpan<float>(Table + (long)Ids[i] * Dim, Dim).CopyTo(new Span<float>(Output + (long)i * Dim, Dim));
        }
    }
}
