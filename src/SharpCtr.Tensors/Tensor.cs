using System.Runtime.CompilerServices;
using System.Text;

namespace SharpCtr.Tensors;

/// <summary>
/// A dense float32 tensor, contiguous and row-major, of rank 0–6. Parameters own their arrays;
/// temporaries made inside a <see cref="Tape"/> scope borrow pooled arrays that return to the
/// pool when the scope ends, so a training step allocates (almost) nothing after warm-up.
/// </summary>
public sealed class Tensor
{
    public const int MaxRank = 6;

    public readonly int[] Shape;
    public readonly int Size;
    /// <summary>Exactly <see cref="Size"/> elements (pools are keyed by exact size).</summary>
    public float[] Data;
    public Tensor? Grad;
    /// <summary>Row-sparse gradient, used instead of <see cref="Grad"/> by embedding tables.</summary>
    public SparseRowGrad? SparseGrad;
    public bool RequiresGrad;
    public string? Name;
    /// <summary>The tape scope whose pool lent this tensor's array (null for owned memory).</summary>
    internal Tape? Owner;
    /// <summary>True for a gradient buffer lent by a tape scope's pool (see <see cref="Tape.TryMoveGrad"/>).</summary>
    internal bool PooledGrad;

    internal Tensor(int[] shape, float[] data)
    {
        Shape = shape;
        Size = data.Length;
        Data = data;
    }

    public int Rank => Shape.Length;
    public Span<float> Span => Data.AsSpan(0, Size);

    /// <summary>Size of axis <paramref name="axis"/>; negative counts from the end.</summary>
    public int Dim(int axis) => Shape[NormalizeAxis(axis, Rank)];

    /// <summary>Product of all dimensions but the last: the "rows" of a row-major view.</summary>
    public int Rows => Rank == 0 ? 1 : Size / Shape[^1];
    public int Cols => Rank == 0 ? 1 : Shape[^1];

    public float this[params int[] index]
    {
        get => Data[Offset(index)];
        set => Data[Offset(index)] = value;
    }

    public float ToScalar()
    {
        if (Size != 1) throw new InvalidOperationException($"ToScalar() needs a one-element tensor, got shape {ShapeString(Shape)}");
        return Data[0];
    }

    int Offset(int[] index)
    {
        if (index.Length != Rank) throw new ArgumentException($"index of rank {index.Length} for tensor of shape {ShapeString(Shape)}");
        int off = 0;
        for (int i = 0; i < Rank; i++)
        {
            if ((uint)index[i] >= (uint)Shape[i]) throw new IndexOutOfRangeException($"index {index[i]} out of range for axis {i} of shape {ShapeString(Shape)}");
            off = off * Shape[i] + index[i];
        }
        return off;
    }

    // ---- construction -------------------------------------------------------------------

    /// <summary>A tensor that owns a fresh zeroed array (parameters, results kept beyond a scope).</summary>
    public static Tensor Zeros(params int[] shape) => new(CheckShape(shape), new float[SizeOf(shape)]);

    public static Tensor Full(float value, params int[] shape)
    {
        var t = Zeros(shape);
        Array.Fill(t.Data, value);
        return t;
    }

    public static Tensor FromArray(float[] data, params int[] shape)
    {
        CheckShape(shape);
        if (data.Length != SizeOf(shape)) throw new ArgumentException($"{data.Length} values do not fill shape {ShapeString(shape)} ({SizeOf(shape)} elements)");
        return new Tensor(shape, data);
    }

    public static Tensor Scalar(float value) => new([], [value]);

    /// <summary>A learnable parameter: owns its memory, records gradients.</summary>
    public static Tensor Parameter(string name, params int[] shape)
    {
        var t = Zeros(shape);
        t.RequiresGrad = true;
        t.Name = name;
        return t;
    }

    /// <summary>
    /// A temporary result: a pooled array when a tape scope is active (released with the scope),
    /// else a fresh array. Contents are NOT zeroed unless <paramref name="zero"/>.
    /// </summary>
    public static Tensor Temp(int[] shape, bool zero = false)
    {
        int size = SizeOf(shape);
        var tape = Tape.Current;
        if (tape is null) return new Tensor(shape, new float[size]);
        var t = new Tensor(shape, TensorPool.Rent(size));
        if (zero) Array.Clear(t.Data);
        tape.Own(t);
        return t;
    }

    public Tensor Clone()
    {
        var t = Zeros((int[])Shape.Clone());
        Span.CopyTo(t.Data);
        return t;
    }

    public float[] ToArray() => Span.ToArray();

    /// <summary>A tensor sharing this one's array under another shape (no autodiff; see <see cref="Ops.Reshape"/>).</summary>
    internal Tensor ViewAs(int[] shape)
    {
        if (SizeOf(shape) != Size) throw new ArgumentException($"cannot view shape {ShapeString(Shape)} as {ShapeString(shape)}");
        var v = new Tensor(shape, Data);
        Tape.Current?.OwnView(v);
        return v;
    }

    // ---- gradients ------------------------------------------------------------------------

    /// <summary>The gradient buffer, created zeroed on first use (pooled for temporaries).</summary>
    internal Tensor GradBuffer()
    {
        if (Grad is not null) return Grad;
        var tape = Tape.Current;
        if (tape is not null && tape.Owns(this))
        {
            Grad = new Tensor(Shape, TensorPool.Rent(Size)) { PooledGrad = true };
            Array.Clear(Grad.Data);
            tape.OwnGrad(Grad);
        }
        else Grad = new Tensor(Shape, new float[Size]);
        return Grad;
    }

    /// <summary>
    /// The gradient buffer when it is about to be fully overwritten: a new one is not zeroed
    /// (<paramref name="fresh"/> = true, the caller writes every element); an existing one is
    /// returned as is (fresh = false, the caller accumulates).
    /// </summary>
    internal Tensor GradBufferForWrite(out bool fresh)
    {
        fresh = Grad is null;
        if (!fresh) return Grad!;
        var tape = Tape.Current;
        if (tape is not null && tape.Owns(this))
        {
            Grad = new Tensor(Shape, TensorPool.Rent(Size)) { PooledGrad = true };
            tape.OwnGrad(Grad);
        }
        else Grad = new Tensor(Shape, new float[Size]);
        return Grad;
    }

    public void ZeroGrad()
    {
        if (Grad is not null) Array.Clear(Grad.Data);
        SparseGrad?.Clear();
    }

    // ---- shape helpers --------------------------------------------------------------------

    internal static int SizeOf(ReadOnlySpan<int> shape)
    {
        long s = 1;
        foreach (var d in shape) s *= d;
        if (s > Array.MaxLength) throw new ArgumentException($"tensor of shape {ShapeString(shape.ToArray())} is too large ({s} elements)");
        return (int)s;
    }

    internal static bool SameShape(int[] a, int[] b) => a.AsSpan().SequenceEqual(b);

    static int[] CheckShape(int[] shape)
    {
        if (shape.Length > MaxRank) throw new ArgumentException($"rank {shape.Length} exceeds the maximum {MaxRank}");
        foreach (var d in shape)
            if (d < 0) throw new ArgumentException($"negative dimension in shape {ShapeString(shape)}");
        return shape;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int NormalizeAxis(int axis, int rank)
    {
        int a = axis < 0 ? axis + rank : axis;
        if ((uint)a >= (uint)Math.Max(rank, 1)) throw new ArgumentException($"axis {axis} out of range for rank {rank}");
        return a;
    }

    public static string ShapeString(int[] shape) => "[" + string.Join(", ", shape) + "]";

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("Tensor").Append(ShapeString(Shape));
        if (Name is not null) sb.Append(' ').Append(Name);
        sb.Append(" {");
        int n = Math.Min(Size, 8);
        for (int i = 0; i < n; i++) sb.Append(i == 0 ? "" : ", ").Append(Data[i].ToString("G5"));
        if (Size > n) sb.Append(", …");
        return sb.Append('}').ToString();
    }
}
