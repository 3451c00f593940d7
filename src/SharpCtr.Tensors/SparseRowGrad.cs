using System.Buffers;
using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors;

/// <summary>
/// Gradient of an embedding table kept only for the rows a step touched: a step that looks up
/// 50k ids into a 4000×16 table writes ~50k×16 floats, never the whole table, and the optimizer
/// then updates only those rows (lazy Adam).
/// </summary>
public sealed class SparseRowGrad
{
    public readonly int Dim;
    readonly int[] slotOfRow;     // vocabulary-sized; -1 = untouched
    int[] rows = new int[64];
    float[] values;
    public int Count { get; private set; }

    public SparseRowGrad(int vocab, int dim)
    {
        Dim = dim;
        slotOfRow = new int[vocab];
        Array.Fill(slotOfRow, -1);
        values = new float[64 * dim];
    }

    /// <summary>Touched row ids, in first-touched order.</summary>
    public ReadOnlySpan<int> Rows => rows.AsSpan(0, Count);

    /// <summary>Gradient of the i-th touched row (i indexes <see cref="Rows"/>).</summary>
    public Span<float> Values(int i) => values.AsSpan(i * Dim, Dim);

    /// <summary>Gradient slot of row <paramref name="row"/>, created zeroed on first touch.</summary>
    public Span<float> Slot(int row)
    {
        int s = slotOfRow[row];
        if (s < 0)
        {
            EnsureCapacity(Count + 1);
            s = NewSlot(row);
            Array.Clear(values, s * Dim, Dim);
        }
        return values.AsSpan(s * Dim, Dim);
    }

    public void Clear()
    {
        for (int i = 0; i < Count; i++) slotOfRow[rows[i]] = -1;
        Count = 0;
    }

    /// <summary>Dense copy (for tests, gradient checks and clipping by global norm).</summary>
    public float[] ToDense(int vocab)
    {
        var d = new float[vocab * Dim];
        for (int i = 0; i < Count; i++) Values(i).CopyTo(d.AsSpan(rows[i] * Dim, Dim));
        return d;
    }

    /// <summary>
    /// The backward of an embedding lookup: slot(ids[i]) += grad[i·Dim, (i+1)·Dim) for the first
    /// <paramref name="n"/> ids except <paramref name="paddingIdx"/>. Each slot sums its rows in
    /// position order whatever the thread count, so results are bit-identical on 1 or 2 threads.
    /// Large lookups first assign slots (one pass over the ids, in order, so rows keep their
    /// first-touch order) and split positions by blocks of 64 slots; then each thread adds the
    /// gradient rows of its own slot blocks — no two threads write the same slot.
    /// </summary>
    internal void ScatterAdd(int[] ids, int n, int paddingIdx, float[] grad) => ScatterAdd(ids, n, paddingIdx, grad, 0, Dim);

    /// <summary>As above, gradient row i read at grad[gradOffset + i·gradStride] (a column block of a wider matrix).</summary>
    internal void ScatterAdd(int[] ids, int n, int paddingIdx, float[] grad, int gradOffset, int gradStride)
    {
        if (n == 0) return;
        int dim = Dim;
        EnsureCapacity(Math.Min(slotOfRow.Length, Count + n));
        if (KernelThreads.ForElements((long)n * dim) == 1)
        {
            for (int i = 0; i < n; i++)
            {
                int id = ids[i];
                if (id == paddingIdx) continue;
                int s = slotOfRow[id];
                if (s < 0)
                {
                    s = NewSlot(id);
                    Array.Clear(values, s * dim, dim);
                }
                RowMath.AddRow(grad, gradOffset + i * gradStride, values, s * dim, dim);
            }
            return;
        }
        int first = Count;
        // Positions of part-0 slots fill `order` from the front, part-1 positions from the back.
        var order = ArrayPool<int>.Shared.Rent(n);
        int front = 0, back = n - 1;
        for (int i = 0; i < n; i++)
        {
            int id = ids[i];
            if (id == paddingIdx) continue;
            int s = slotOfRow[id];
            if (s < 0) s = NewSlot(id);
            int part = (s >> 6) & 1;                  // branch-free: the part is random per position
            order[front + part * (back - front)] = i;
            front += 1 - part;
            back -= part;
        }
        Array.Clear(values, first * dim, (Count - first) * dim);
        var job = new ScatterJob(this, ids, grad, gradOffset, gradStride, order, front, back + 1, n);
        KernelThreads.Run(job, 2, 2);
        ArrayPool<int>.Shared.Return(order);
    }

    /// <summary>
    /// The backward of a pooled lookup (<see cref="Ops.EmbeddingBag"/>): for bag r of ids [rows, width],
    /// slot(ids[r, l]) += grad[r]·scale[r] for l &lt; lengths[r], skipping <paramref name="paddingIdx"/>,
    /// in position order (one thread: deterministic).
    /// </summary>
    internal void ScatterAddBags(int[] ids, int rows, int width, int[] lengths, float[] scale, int paddingIdx, float[] grad)
    {
        int dim = Dim;
        if (dim <= 16) { ScatterAddBagsShort(ids, rows, width, lengths, scale, paddingIdx, grad); return; }
        for (int r = 0; r < rows; r++)
        {
            int len = Math.Min(lengths[r], width);
            if (len <= 0) continue;
            EnsureCapacity(Math.Min(slotOfRow.Length, Count + len));
            for (int l = 0; l < len; l++)
            {
                int id = ids[r * width + l];
                if (id == paddingIdx) continue;
                int s = slotOfRow[id];
                if (s < 0)
                {
                    s = NewSlot(id);
                    Array.Clear(values, s * dim, dim);
                }
                RowMath.AddScaledRow(grad, r * dim, scale[r], values, s * dim, dim);
            }
        }
    }

    /// <summary>ScatterAddBags for rows of at most 16: the bag's scaled gradient stays in a register
    /// (the same product per position as before, computed once), a new slot is written, not cleared and added.</summary>
    unsafe void ScatterAddBagsShort(int[] ids, int rows, int width, int[] lengths, float[] scale, int paddingIdx, float[] grad)
    {
        int dim = Dim;
        for (int r = 0; r < rows; r++)
        {
            int len = Math.Min(lengths[r], width);
            if (len <= 0) continue;
            EnsureCapacity(Math.Min(slotOfRow.Length, Count + len));
            fixed (float* pg = grad, pv = values)
            {
                var g = VectorMath.LoadPartial(pg + (long)r * dim, dim) * System.Runtime.Intrinsics.Vector512.Create(scale[r]);
                for (int l = 0; l < len; l++)
                {
                    int id = ids[r * width + l];
                    if (id == paddingIdx) continue;
                    int s = slotOfRow[id];
                    if (s < 0) VectorMath.StorePartial(g, pv + (long)NewSlot(id) * dim, dim);
                    else VectorMath.StorePartial(g + VectorMath.LoadPartial(pv + (long)s * dim, dim), pv + (long)s * dim, dim);
                }
            }
        }
    }

    void EnsureCapacity(int slots)
    {
        if (slots <= rows.Length) return;
        int size = Math.Max(slots, rows.Length * 2);
        Array.Resize(ref rows, size);
        Array.Resize(ref values, size * Dim);
    }

    /// <summary>Registers <paramref name="row"/> in the next slot (capacity already ensured; contents not cleared).</summary>
    int NewSlot(int row)
    {
        int s = Count++;
        rows[s] = row;
        slotOfRow[row] = s;
        return s;
    }

    readonly struct ScatterJob(SparseRowGrad target, int[] ids, float[] grad, int gradOffset, int gradStride, int[] order, int frontEnd, int backStart, int n) : IRangeJob
    {
        public void Run(int start, int end)
        {
            int dim = target.Dim;
            var values = target.values;
            var slotOfRow = target.slotOfRow;
            for (int part = start; part < end; part++)
            {
                // Part 1 was written back to front, so reading it backwards restores position order.
                int from = part == 0 ? 0 : n - 1, to = part == 0 ? frontEnd : backStart - 1, step = part == 0 ? 1 : -1;
                for (int k = from; k != to; k += step)
                {
                    int i = order[k];
                    RowMath.AddRow(grad, gradOffset + i * gradStride, values, slotOfRow[ids[i]] * dim, dim);
                }
            }
        }
    }
}
