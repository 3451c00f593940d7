namespace SharpCtr.Tensors;

/// <summary>Row lookups: embedding tables (with sparse gradients) and index-select.</summary>
public static partial class Ops
{
    /// <summary>
    /// Looks up rows of <paramref name="table"/> [vocab, dim] for <paramref name="ids"/> (the first
    /// Π idShape entries), giving [..idShape, dim]. Ids equal to <paramref name="paddingIdx"/> give
    /// zero vectors and no gradient. When the table has a <see cref="SparseRowGrad"/>, the gradient
    /// is written only to the touched rows.
    /// </summary>
    public static Tensor Embedding(Tensor table, int[] ids, int[] idShape, int paddingIdx = -1)
    {
        if (table.Rank != 2) throw new ArgumentException($"embedding table must be [vocab, dim], got {Tensor.ShapeString(table.Shape)}");
        int vocab = table.Shape[0], dim = table.Shape[1];
        int n = Tensor.SizeOf(idShape);
        if (ids.Length < n) throw new ArgumentException($"{ids.Length} ids for id shape {Tensor.ShapeString(idShape)}");
        var shape = new int[idShape.Length + 1];
        idShape.CopyTo(shape, 0);
        shape[^1] = dim;
        var y = Tensor.Temp(shape);
        Kernels.Embedding.GatherRows(table.Data, vocab, dim, ids, n, paddingIdx, y.Data, table.Name);
        if (Tape.Needs(table))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gy = y.Grad.Data;
                if (table.SparseGrad is { } sparse) sparse.ScatterAdd(ids, n, paddingIdx, gy);
                else
                {
                    var gt = table.GradBuffer().Data;
                    for (int i = 0; i < n; i++)
                        if (ids[i] != paddingIdx) Kernels.RowMath.AddRow(gy, i * dim, gt, ids[i] * dim, dim);
                }
            });
        return y;
    }

    /// <summary>
    /// Rows of several tables side by side: y[i] = [t0[ids0[i]] | t1[ids1[i]] | …] for the first
    /// <paramref name="n"/> ids of each list (padding ids give zeros and no gradient) — one lookup
    /// per table and their concatenation, without the per-table outputs and the copies between
    /// them. Gradients go to each table's touched rows, read in place from y's gradient.
    /// </summary>
    public static Tensor EmbeddingConcat(Tensor[] tables, int[][] ids, int n, int paddingIdx = 0)
    {
        if (tables.Length == 0 || tables.Length != ids.Length) throw new ArgumentException($"EmbeddingConcat: {tables.Length} tables and {ids.Length} id lists");
        int width = 0;
        foreach (var t in tables)
        {
            if (t.Rank != 2) throw new ArgumentException($"embedding table must be [vocab, dim], got {Tensor.ShapeString(t.Shape)}");
            width += t.Shape[1];
        }
        var y = Tensor.Temp([n, width]);
        for (int t = 0, offset = 0; t < tables.Length; offset += tables[t].Shape[1], t++)
        {
            if (ids[t].Length < n) throw new ArgumentException($"EmbeddingConcat: {ids[t].Length} ids for table {tables[t].Name ?? t.ToString()}, need {n}");
            Kernels.Embedding.GatherRows(tables[t].Data, tables[t].Shape[0], tables[t].Shape[1], ids[t], n, paddingIdx, y.Data, offset, width, tables[t].Name);
        }
        bool any = false;
        foreach (var t in tables) any |= Tape.Needs(t);
        if (any)
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gy = y.Grad.Data;
                for (int t = 0, offset = 0; t < tables.Length; offset += tables[t].Shape[1], t++)
                {
                    var table = tables[t];
                    if (!table.RequiresGrad) continue;
                    int dim = table.Shape[1];
                    if (table.SparseGrad is { } sparse) { sparse.ScatterAdd(ids[t], n, paddingIdx, gy, offset, width); continue; }
                    var gt = table.GradBuffer().Data;
                    for (int i = 0; i < n; i++)
                        if (ids[t][i] != paddingIdx) Kernels.RowMath.AddRow(gy, offset + i * width, gt, ids[t][i] * dim, dim);
                }
            });
        return y;
    }

    /// <summary>
    /// Bags of ids pooled without materialising their rows: for ids [rows, width] (right-padded)
    /// and lengths [rows], y[r] = Σ (or mean) of table rows ids[r, 0..lengths[r]). Padding ids are
    /// skipped but still count toward the mean's length only if inside lengths (they never are when
    /// lists are right-padded). Gradients go to the touched rows (sparse when the table is).
    /// </summary>
    public static Tensor EmbeddingBag(Tensor table, int[] ids, int rows, int width, int[] lengths, bool mean, int paddingIdx = 0)
    {
        if (table.Rank != 2) throw new ArgumentException($"embedding table must be [vocab, dim], got {Tensor.ShapeString(table.Shape)}");
        int vocab = table.Shape[0], dim = table.Shape[1];
        var y = Tensor.Temp([rows, dim], zero: dim > 16);   // rows of ≤ 16 are written whole
        var scale = Tensor.Temp([rows]).Data;
        // Bags are independent: split over the cores by rows (a position costs about one row load
        // whatever the width, so the work is counted in positions).
        var job = new BagJob(table.Data, vocab, dim, ids, width, lengths, mean, paddingIdx, y.Data, scale, table.Name);
        Kernels.KernelThreads.Run(job, rows, Kernels.KernelThreads.ForElements((long)rows * width * 16));
        if (Tape.Needs(table))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gy = y.Grad.Data;
                if (table.SparseGrad is { } sparse) { sparse.ScatterAddBags(ids, rows, width, lengths, scale, paddingIdx, gy); return; }
                var dense = table.GradBuffer().Data;
                for (int r = 0; r < rows; r++)
                {
                    int len = Math.Min(lengths[r], width);
                    for (int l = 0; l < len; l++)
                    {
                        int id = ids[r * width + l];
                        if (id != paddingIdx) Kernels.RowMath.AddScaledRow(gy, r * dim, scale[r], dense, id * dim, dim);
                    }
                }
            });
        return y;
    }

    readonly struct BagJob(float[] table, int vocab, int dim, int[] ids, int width, int[] lengths, bool mean, int paddingIdx,
        float[] y, float[] scale, string? tableName) : Kernels.IRangeJob
    {
        public void Run(int start, int end)
        {
            // Rows are 1–64 floats: inline row adds, not a library call per history position; a row of
            // at most 16 is summed in a register (the same adds in the same order, no store per position).
            for (int r = start; r < end; r++)
            {
                int len = Math.Min(lengths[r], width);
                scale[r] = mean && len > 0 ? 1f / len : 1f;
                if (dim <= 16)
                {
                    int bad = Kernels.RowMath.SumRowsShort(table, dim, vocab, ids, r * width, len, paddingIdx, scale[r], y, r * dim);
                    if (bad >= 0) throw BagIdOutOfRange(ids[r * width + bad], r, tableName, vocab);
                    continue;
                }
                for (int l = 0; l < len; l++)
                    if ((uint)ids[r * width + l] >= (uint)vocab) throw BagIdOutOfRange(ids[r * width + l], r, tableName, vocab);
                for (int l = 0; l < len; l++)
                {
                    int id = ids[r * width + l];
                    if (id != paddingIdx) Kernels.RowMath.AddRow(table, id * dim, y, r * dim, dim);
                }
                if (scale[r] != 1f) Kernels.RowMath.ScaleRow(y, r * dim, scale[r], dim);
            }
        }
    }

    static ArgumentOutOfRangeException BagIdOutOfRange(int id, int bag, string? table, int vocab) =>
        new("ids", $"id {id} in bag {bag} is outside the embedding table {table ?? ""} of {vocab} rows");

    /// <summary>Rows of x (viewed as [N, rest]) picked by index, in order; repeats allowed.</summary>
    public static Tensor IndexSelect(Tensor x, int[] rows)
    {
        int n0 = x.Shape[0], w = x.Size / Math.Max(1, n0);
        var shape = (int[])x.Shape.Clone();
        shape[0] = rows.Length;
        var y = Tensor.Temp(shape);
        for (int i = 0; i < rows.Length; i++)
        {
            if ((uint)rows[i] >= (uint)n0) throw new ArgumentOutOfRangeException(nameof(rows), $"row {rows[i]} out of range for {n0} rows");
            Kernels.RowMath.CopyRow(x.Data, rows[i] * w, y.Data, i * w, w);   // short rows: inline, not a library call each
        }
        if (Tape.Needs(x))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gx = x.GradBuffer().Data;
                var gy = y.Grad.Data;
                for (int i = 0; i < rows.Length; i++) Kernels.RowMath.AddRow(gy, i * w, gx, rows[i] * w, w);
            });
        return y;
    }
}
