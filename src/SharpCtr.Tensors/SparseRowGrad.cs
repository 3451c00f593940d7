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
            s = Count++;
            if (s == rows.Length)
            {
                Array.Resize(ref rows, rows.Length * 2);
                Array.Resize(ref values, values.Length * 2);
            }
            rows[s] = row;
            slotOfRow[row] = s;
            Array.Clear(values, s * Dim, Dim);
        }
        return values.AsSpan(s * Dim, Dim);
    }

    /// <summary>Slot index of row <paramref name="row"/> (created zeroed on first touch); see <see cref="RawValues"/>.</summary>
    internal int SlotIndex(int row)
    {
        int s = slotOfRow[row];
        if (s >= 0) return s;
        Slot(row);
        return slotOfRow[row];
    }

    /// <summary>The slots' storage, slot i at [i·Dim, (i+1)·Dim). Re-read after creating slots (it may grow).</summary>
    internal float[] RawValues => values;

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
}
