using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
    // Slot s is values[origin + s·Dim]. The array is pinned and slot 0 starts on a 64-byte
    // boundary, so a 16-float row is one cache line: a managed array's data starts 8 or 16 bytes
    // past a line, which split every row over two lines (the backward's halves ran ~10 % slower).
    float[] values;
    int origin;
    public int Count { get; private set; }

    public SparseRowGrad(int vocab, int dim)
    {
        Dim = dim;
        slotOfRow = new int[vocab];
        Array.Fill(slotOfRow, -1);
        values = AllocateSlots(64 * dim, out origin);
    }

    /// <summary>A pinned array with room for <paramref name="floats"/> floats from a 64-byte-aligned <paramref name="origin"/>; contents undefined.</summary>
    static unsafe float[] AllocateSlots(int floats, out int origin)
    {
        var array = GC.AllocateUninitializedArray<float>(floats + 15, pinned: true);
        long address = (long)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        origin = (int)((64 - address % 64) % 64 / sizeof(float));
        return array;
    }

    /// <summary>Touched row ids, in first-touched order.</summary>
    public ReadOnlySpan<int> Rows => rows.AsSpan(0, Count);

    /// <summary>Gradient of the i-th touched row (i indexes <see cref="Rows"/>).</summary>
    public Span<float> Values(int i) => values.AsSpan(origin + i * Dim, Dim);

    /// <summary>Gradient slot of row <paramref name="row"/>, created zeroed on first touch.</summary>
    public Span<float> Slot(int row)
    {
        int s = slotOfRow[row];
        if (s < 0)
        {
            EnsureCapacity(Count + 1);
            s = NewSlot(row);
            Array.Clear(values, origin + s * Dim, Dim);
        }
        return values.AsSpan(origin + s * Dim, Dim);
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
    /// <paramref name="n"/> ids except <paramref name="paddingIdx"/>. Touched rows keep their
    /// first-touch order. A large lookup (≥ <see cref="SplitElements"/> floats of gradient) is
    /// summed in two halves of positions — the first into the slots, the second into a private
    /// accumulator that is then added slot by slot — so two threads each stream a contiguous half
    /// of the gradient; the halves are the same whatever the thread count, so results are
    /// bit-identical on 1 or 2 threads.
    /// </summary>
    internal void ScatterAdd(int[] ids, int n, int paddingIdx, float[] grad) => ScatterAdd(ids, n, paddingIdx, grad, 0, Dim);

    /// <summary>Gradient floats from which a lookup's backward is summed in two halves (see ScatterAdd).</summary>
    internal const int SplitElements = 1 << 16;

    /// <summary>As above, gradient row i read at grad[gradOffset + i·gradStride] (a column block of a wider matrix).</summary>
    internal void ScatterAdd(int[] ids, int n, int paddingIdx, float[] grad, int gradOffset, int gradStride)
    {
        if (n == 0) return;
        int vocab = slotOfRow.Length;
        EnsureCapacity(Math.Min(vocab, Count + n));
        if ((long)n * Dim < SplitElements)
        {
            int count = Count;
            AccumulateRows(ids, 0, n, paddingIdx, grad, gradOffset, gradStride, Dim, slotOfRow, rows, values, origin, ref count);
            Count = count;
            return;
        }
        int half = n / 2;
        secondHalf ??= new SparseRowGrad(vocab, Dim);
        secondHalf.EnsureCapacity(Math.Min(vocab, n - half));
        var job = new HalvesJob(this, secondHalf, ids, half, n, paddingIdx, grad, gradOffset, gradStride);
        KernelThreads.Run(job, 2, KernelThreads.ForElements((long)n * Dim));
        AddAndClear(secondHalf);
    }

    SparseRowGrad? secondHalf;   // private accumulator of a split ScatterAdd; empty between calls

    /// <summary>Adds <paramref name="other"/>'s rows into this one (new rows appended in its order), then
    /// empties it. Capacity for the new rows must already be there. (Splitting the row sums over the
    /// threads did not pay: the ~35 µs of a 4,000-row merge is moving the other core's partial sums.)</summary>
    unsafe void AddAndClear(SparseRowGrad other)
    {
        int dim = Dim;
        fixed (float* pv0 = values, po0 = other.values)
        {
            float* pv = pv0 + origin, po = po0 + other.origin;
            for (int k = 0; k < other.Count; k++)
            {
                int row = other.rows[k];
                other.slotOfRow[row] = -1;
                int s = slotOfRow[row];
                float* src = po + (long)k * dim;
                if (s < 0) new Span<float>(src, dim).CopyTo(new Span<float>(pv + (long)NewSlot(row) * dim, dim));
                else if (dim == 16) Vector512.Store(Vector512.Load(src) + Vector512.Load(pv + (long)s * 16), pv + (long)s * 16);
                else if (dim == 1) pv[s] = *src + pv[s];
                else RowMath.AddRow(other.values, other.origin + k * dim, values, origin + s * dim, dim);
            }
        }
        other.Count = 0;
    }

    /// <summary>
    /// slot(ids[i]) += grad row i for i in [from, to), in position order; a new slot is written
    /// with its first row (not cleared and added: the same bits). Capacity must already be there.
    /// Rows of at most 16 floats are one masked vector each.
    /// </summary>
    static unsafe void AccumulateRows(int[] ids, int from, int to, int paddingIdx, float[] grad, int gradOffset, int gradStride,
        int dim, int[] slotOfRow, int[] rows, float[] values, int origin, ref int count)
    {
        fixed (float* pg = grad, pv0 = values)
        fixed (int* pi = ids, ps = slotOfRow, pr = rows)
        {
            float* pv = pv0 + origin;
            if (dim == 16)
            {
                // The common width: plain 512-bit moves. One masked-helper loop for every width ≤ 16
                // measured 20–45 µs slower on a 51,200-row lookup (session 5 review).
                for (int i = from; i < to; i++)
                {
                    int id = pi[i];
                    if (id == paddingIdx) continue;
                    var g = Vector512.Load(pg + gradOffset + (long)i * gradStride);
                    int s = ps[id];
                    if (s < 0)
                    {
                        s = count++;
                        pr[s] = id;
                        ps[id] = s;
                        Vector512.Store(g, pv + (long)s * 16);
                    }
                    else Vector512.Store(g + Vector512.Load(pv + (long)s * 16), pv + (long)s * 16);
                }
                return;
            }
            if (dim == 1)
            {
                // A first-order (width-1) table: scalar moves. Through the masked path below it was
                // slower than a 16-wide table: a masked one-lane store is not forwarded to the next
                // load of the same slot (a repeated id) on AMD cores, 8 ns against 0.7 per update
                // (design note 49; bench key one_float_row_update_masked_ns).
                for (int i = from; i < to; i++)
                {
                    int id = pi[i];
                    if (id != paddingIdx) AddToSlot(pg[gradOffset + (long)i * gradStride], id, ps, pr, pv, ref count);
                }
                return;
            }
            if (dim < 16)
            {
                for (int i = from; i < to; i++)
                {
                    int id = pi[i];
                    if (id == paddingIdx) continue;
                    AddToSlot(VectorMath.LoadPartial(pg + gradOffset + (long)i * gradStride, dim), id, dim, ps, pr, pv, ref count);
                }
                return;
            }
            for (int i = from; i < to; i++)
            {
                int id = pi[i];
                if (id == paddingIdx) continue;
                int s = ps[id];
                if (s < 0)
                {
                    s = count++;
                    pr[s] = id;
                    ps[id] = s;
                    new Span<float>(pg + gradOffset + (long)i * gradStride, dim).CopyTo(new Span<float>(pv + (long)s * dim, dim));
                }
                else RowMath.AddRow(grad, gradOffset + i * gradStride, values, origin + s * dim, dim);
            }
        }
    }

    /// <summary>
    /// The backward of a pooled lookup (<see cref="Ops.EmbeddingBag"/>): for bag r of ids [rows, width],
    /// slot(ids[r, l]) += grad[r]·scale[r] for l &lt; lengths[r], skipping <paramref name="paddingIdx"/>,
    /// in position order; rows of at most 16 floats from ≥ 4,096 positions in two fixed halves of
    /// the bags (see <see cref="ScatterAdd(int[], int, int, float[], int, int)"/>). Deterministic.
    /// </summary>
    internal void ScatterAddBags(int[] ids, int rows, int width, int[] lengths, float[] scale, int paddingIdx, float[] grad)
    {
        int dim = Dim;
        if (dim <= 16)
        {
            if ((long)rows * width * 16 < SplitElements) { ScatterAddBagsShort(ids, 0, rows, width, lengths, scale, paddingIdx, grad); return; }
            // As ScatterAdd: two fixed halves of the bags, one per thread, the second summed on its
            // own and added afterwards (the same bits on 1 or 2 threads).
            secondHalf ??= new SparseRowGrad(slotOfRow.Length, Dim);
            EnsureCapacity((int)Math.Min(slotOfRow.Length, Count + (long)rows * width));   // the merge may append every row of the second half
            var job = new BagHalvesJob(this, secondHalf, ids, rows / 2, rows, width, lengths, scale, paddingIdx, grad);
            KernelThreads.Run(job, 2, KernelThreads.ForElements((long)rows * width * 16));
            AddAndClear(secondHalf);
            return;
        }
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
                    Array.Clear(values, origin + s * dim, dim);
                }
                RowMath.AddScaledRow(grad, r * dim, scale[r], values, origin + s * dim, dim);
            }
        }
    }

    /// <summary>ScatterAddBags for rows of at most 16, bags [fromRow, toRow): the bag's scaled gradient
    /// stays in a register (computed once per bag), a new slot is written, not cleared and added.</summary>
    unsafe void ScatterAddBagsShort(int[] ids, int fromRow, int toRow, int width, int[] lengths, float[] scale, int paddingIdx, float[] grad)
    {
        int dim = Dim;
        // Capacity for every position up front, then one pinned loop with the slot count in a
        // register (per bag, a capacity check and a pin cost as much as a short bag's adds).
        EnsureCapacity((int)Math.Min(slotOfRow.Length, Count + (long)(toRow - fromRow) * width));
        int count = Count;
        fixed (float* pg = grad, pv0 = values)
        fixed (int* pi = ids, ps = slotOfRow, pr = rows)
        {
            float* pv = pv0 + origin;
            if (dim == 1)
            {
                // Width-1 rows as scalars (see AccumulateRows): the same products and adds.
                for (int r = fromRow; r < toRow; r++)
                {
                    int len = Math.Min(lengths[r], width);
                    if (len <= 0) continue;
                    float g = pg[r] * scale[r];
                    int* bag = pi + (long)r * width;
                    for (int l = 0; l < len; l++)
                    {
                        int id = bag[l];
                        if (id != paddingIdx) AddToSlot(g, id, ps, pr, pv, ref count);
                    }
                }
                Count = count;
                return;
            }
            for (int r = fromRow; r < toRow; r++)
            {
                int len = Math.Min(lengths[r], width);
                if (len <= 0) continue;
                var g = VectorMath.LoadPartial(pg + (long)r * dim, dim) * Vector512.Create(scale[r]);
                int* bag = pi + (long)r * width;
                for (int l = 0; l < len; l++)
                {
                    int id = bag[l];
                    if (id != paddingIdx) AddToSlot(g, id, dim, ps, pr, pv, ref count);
                }
            }
        }
        Count = count;
    }

    /// <summary>slot(id) += g for a row of at most 16 floats; a new row takes the next slot and is
    /// written, not cleared and added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void AddToSlot(Vector512<float> g, int id, int dim, int* slotOfRow, int* rows, float* values, ref int count)
    {
        int s = slotOfRow[id];
        if (s < 0)
        {
            s = count++;
            rows[s] = id;
            slotOfRow[id] = s;
            VectorMath.StorePartial(g, values + (long)s * dim, dim);
        }
        else VectorMath.StorePartial(g + VectorMath.LoadPartial(values + (long)s * dim, dim), values + (long)s * dim, dim);
    }

    /// <summary>The same for a row of one float (a first-order table), as a scalar.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void AddToSlot(float g, int id, int* slotOfRow, int* rows, float* values, ref int count)
    {
        int s = slotOfRow[id];
        if (s < 0)
        {
            s = count++;
            rows[s] = id;
            slotOfRow[id] = s;
            values[s] = g;
        }
        else values[s] = g + values[s];
    }

    void EnsureCapacity(int slots)
    {
        if (slots <= rows.Length) return;
        int size = Math.Max(slots, rows.Length * 2);
        Array.Resize(ref rows, size);
        var grown = AllocateSlots(size * Dim, out int grownOrigin);
        Array.Copy(values, origin, grown, grownOrigin, Count * Dim);
        values = grown;
        origin = grownOrigin;
    }

    /// <summary>Registers <paramref name="row"/> in the next slot (capacity already ensured; contents not cleared).</summary>
    int NewSlot(int row)
    {
        int s = Count++;
        rows[s] = row;
        slotOfRow[row] = s;
        return s;
    }

    readonly struct BagHalvesJob(SparseRowGrad first, SparseRowGrad second, int[] ids, int half, int rows, int width, int[] lengths,
        float[] scale, int paddingIdx, float[] grad) : IRangeJob
    {
        public void Run(int start, int end)
        {
            for (int part = start; part < end; part++)
                if (part == 0) first.ScatterAddBagsShort(ids, 0, half, width, lengths, scale, paddingIdx, grad);
                else second.ScatterAddBagsShort(ids, half, rows, width, lengths, scale, paddingIdx, grad);
        }
    }

    readonly struct HalvesJob(SparseRowGrad first, SparseRowGrad second, int[] ids, int half, int n, int paddingIdx,
        float[] grad, int gradOffset, int gradStride) : IRangeJob
    {
        public void Run(int start, int end)
        {
            for (int part = start; part < end; part++)
            {
                var target = part == 0 ? first : second;
                int count = target.Count;
                AccumulateRows(ids, part == 0 ? 0 : half, part == 0 ? half : n, paddingIdx, grad, gradOffset, gradStride,
                    target.Dim, target.slotOfRow, target.rows, target.values, target.origin, ref count);
                target.Count = count;
            }
        }
    }
}
