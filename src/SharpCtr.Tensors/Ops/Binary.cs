using System.Numerics.Tensors;

namespace SharpCtr.Tensors;

/// <summary>Elementwise add, sub, mul, div with broadcasting, and their gradients.</summary>
public static partial class Ops
{
    enum BinaryOp { Add, Sub, Mul, Div }

    public static Tensor Add(Tensor a, Tensor b) => Binary(a, b, BinaryOp.Add);
    public static Tensor Sub(Tensor a, Tensor b) => Binary(a, b, BinaryOp.Sub);
    public static Tensor Mul(Tensor a, Tensor b) => Binary(a, b, BinaryOp.Mul);
    public static Tensor Div(Tensor a, Tensor b) => Binary(a, b, BinaryOp.Div);

    static Tensor Binary(Tensor a, Tensor b, BinaryOp op)
    {
        if (Tensor.SameShape(a.Shape, b.Shape))
        {
            // The common case pays for no broadcast bookkeeping and records no closure.
            var same = Tensor.Temp((int[])a.Shape.Clone());
            Same(op, a.Span, b.Span, same.Span);
            if (Tape.Needs(a, b)) Tape.Record(same, a, b, (int)op, BinaryBackwardStep);
            return same;
        }
        var bc = new Broadcast(a.Shape, b.Shape, op.ToString());
        var y = Tensor.Temp(bc.OutShape);
        bool aFull = a.Size == y.Size, bFull = b.Size == y.Size;
        if (aFull && bFull) Same(op, a.Span, b.Span, y.Span);
        else if (aFull && Broadcast.IsTrailingBlock(a.Shape, b.Shape))
        {
            int n = b.Size;
            for (int o = 0; o < y.Size; o += n) Same(op, a.Data.AsSpan(o, n), b.Span, y.Data.AsSpan(o, n));
        }
        else if (bFull && Broadcast.IsTrailingBlock(b.Shape, a.Shape))
        {
            int n = a.Size;
            for (int o = 0; o < y.Size; o += n) Same(op, a.Span, b.Data.AsSpan(o, n), y.Data.AsSpan(o, n));
        }
        else RowWiseForward(op, a.Data, b.Data, y.Data, bc);
        if (Tape.Needs(a, b)) Tape.Record(y, a, b, (int)op, BinaryBackwardStep);
        return y;
    }

    static void Same(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    static readonly Action<Tensor, Tensor, Tensor, int> BinaryBackwardStep = static (y, a, b, code) => BinaryBackward(y, a, b, (BinaryOp)code);

    static void BinaryBackward(Tensor y, Tensor a, Tensor b, BinaryOp op)
    {
        if (y.Grad is null) return;
        if (op is BinaryOp.Add or BinaryOp.Sub && a.Size == y.Size && b.Size == y.Size)
        {
            AddSubBackward(y, a, b, negateB: op == BinaryOp.Sub);
            return;
        }
        var bc = new Broadcast(a.Shape, b.Shape, op.ToString());
        var gy = y.Grad.Data;
        var ad = a.Data; var bd = b.Data;
        // Local derivative of y w.r.t. a and b at each output element, times gy, summed over broadcast axes.
        if (a.RequiresGrad)
        {
            if (a.Size == y.Size && b.Size == y.Size && op == BinaryOp.Mul)
                MulBackward(gy.AsSpan(0, y.Size), bd.AsSpan(0, b.Size), a);
            else
            {
                var ga = a.GradBuffer().Data;
                if (a.Size == y.Size && op is BinaryOp.Add or BinaryOp.Sub)
                    TensorPrimitives.Add(ga, gy.AsSpan(0, y.Size), ga);
                else RowWiseBackward(op, forA: true, gy, ad, bd, y.Data, ga, bc);
            }
        }
        if (b.RequiresGrad)
        {
            if (a.Size == y.Size && b.Size == y.Size && op == BinaryOp.Mul)
            {
                MulBackward(gy.AsSpan(0, y.Size), ad.AsSpan(0, a.Size), b);
                return;
            }
            var gb = b.GradBuffer().Data;
            if (b.Size == y.Size && op == BinaryOp.Add)
                TensorPrimitives.Add(gb, gy.AsSpan(0, y.Size), gb);
            else if (op == BinaryOp.Add && a.Size == y.Size && Broadcast.IsTrailingBlock(a.Shape, b.Shape))
            {
                int n = b.Size;
                for (int o = 0; o < y.Size; o += n) TensorPrimitives.Add(gb.AsSpan(0, n), gy.AsSpan(o, n), gb.AsSpan(0, n));
            }
            else RowWiseBackward(op, forA: false, gy, ad, bd, y.Data, gb, bc);
        }
    }

    /// <summary>x.Grad (+)= gy ⊙ other: written into a new buffer (no zeroing), added to an existing one.</summary>
    static void MulBackward(ReadOnlySpan<float> gy, ReadOnlySpan<float> other, Tensor x)
    {
        var gx = x.GradBufferForWrite(out bool fresh).Span;
        if (fresh) TensorPrimitives.Multiply(gy, other, gx);
        else TensorPrimitives.MultiplyAdd(gy, other, gx, gx);
    }

    /// <summary>
    /// Same-size add/sub: each input's gradient is gy (or −gy). An input without a gradient yet
    /// takes y's pooled buffer itself when allowed (<see cref="Tape.TryMoveGrad"/>), else gets a
    /// copy written into an unzeroed buffer; an input with a gradient accumulates. When a and b are
    /// the same tensor, the second accumulation reads and writes the one buffer elementwise,
    /// which gives 2·gy (add) or 0 (sub) as it should.
    /// </summary>
    static void AddSubBackward(Tensor y, Tensor a, Tensor b, bool negateB)
    {
        int n = y.Size;
        var gy = y.Grad!.Data.AsSpan(0, n);   // held before a move can clear y.Grad
        if (a.RequiresGrad && !Tape.TryMoveGrad(y, a))
        {
            var ga = a.GradBufferForWrite(out bool fresh).Span;
            if (fresh) gy.CopyTo(ga);
            else TensorPrimitives.Add(ga, gy, ga);
        }
        if (!b.RequiresGrad) return;
        if (Tape.TryMoveGrad(y, b))
        {
            if (negateB) TensorPrimitives.Negate(gy, gy);
            return;
        }
        var gb = b.GradBufferForWrite(out bool bFresh).Span;
        if (bFresh)
        {
            if (negateB) TensorPrimitives.Negate(gy, gb);
            else gy.CopyTo(gb);
        }
        else if (negateB) TensorPrimitives.Subtract(gb, gy, gb);
        else TensorPrimitives.Add(gb, gy, gb);
    }

    /// <summary>
    /// Broadcasting by rows of the last axis: each operand's row is either a full row (stride 1)
    /// or one repeated value (stride 0), so every row is one vector primitive.
    /// </summary>
    static void RowWiseForward(BinaryOp op, float[] a, float[] b, float[] y, Broadcast bc)
    {
        int r = bc.OutShape.Length, cols = bc.OutShape[r - 1];
        bool aRow = bc.StrideA[r - 1] != 0, bRow = bc.StrideB[r - 1] != 0;
        int rows = cols == 0 ? 0 : Tensor.SizeOf(bc.OutShape) / cols;
        Span<int> idx = stackalloc int[r];
        int ia = 0, ib = 0;
        for (int row = 0; row < rows; row++)
        {
            var ys = y.AsSpan(row * cols, cols);
            if (aRow && bRow) Same(op, a.AsSpan(ia, cols), b.AsSpan(ib, cols), ys);
            else if (aRow)
            {
                var av = a.AsSpan(ia, cols); float bv = b[ib];
                switch (op)
                {
                    case BinaryOp.Add: TensorPrimitives.Add(av, bv, ys); break;
                    case BinaryOp.Sub: TensorPrimitives.Subtract(av, bv, ys); break;
                    case BinaryOp.Mul: TensorPrimitives.Multiply(av, bv, ys); break;
                    default: TensorPrimitives.Divide(av, bv, ys); break;
                }
            }
            else if (bRow)
            {
                float av = a[ia]; var bv = b.AsSpan(ib, cols);
                switch (op)
                {
                    case BinaryOp.Add: TensorPrimitives.Add(bv, av, ys); break;
                    case BinaryOp.Sub: TensorPrimitives.Subtract(av, bv, ys); break;
                    case BinaryOp.Mul: TensorPrimitives.Multiply(bv, av, ys); break;
                    default: TensorPrimitives.Divide(av, bv, ys); break;
                }
            }
            else ys.Fill(op switch { BinaryOp.Add => a[ia] + b[ib], BinaryOp.Sub => a[ia] - b[ib], BinaryOp.Mul => a[ia] * b[ib], _ => a[ia] / b[ib] });
            Advance(bc, idx, ref ia, ref ib);
        }
    }

    /// <summary>Accumulates the gradient of one operand row by row (summing over its broadcast axes).</summary>
    static void RowWiseBackward(BinaryOp op, bool forA, float[] gy, float[] a, float[] b, float[] y, float[] g, Broadcast bc)
    {
        int r = bc.OutShape.Length, cols = bc.OutShape[r - 1];
        bool aRow = bc.StrideA[r - 1] != 0, bRow = bc.StrideB[r - 1] != 0;
        bool gRow = forA ? aRow : bRow, otherRow = forA ? bRow : aRow;
        float[] other = forA ? b : a;
        float sign = op == BinaryOp.Sub && !forA ? -1f : 1f;
        int rows = cols == 0 ? 0 : Tensor.SizeOf(bc.OutShape) / cols;
        Span<int> idx = stackalloc int[r];
        int ia = 0, ib = 0;
        for (int row = 0; row < rows; row++)
        {
            var gys = gy.AsSpan(row * cols, cols);
            int ig = forA ? ia : ib, io = forA ? ib : ia;
            if (op is BinaryOp.Add or BinaryOp.Sub)
            {
                if (gRow) { var gs = g.AsSpan(ig, cols); TensorPrimitives.MultiplyAdd(gys, sign, gs, gs); }
                else g[ig] += sign * TensorPrimitives.Sum(gys);
            }
            else if (op == BinaryOp.Mul)
            {
                if (gRow)
                {
                    var gs = g.AsSpan(ig, cols);
                    if (otherRow) TensorPrimitives.MultiplyAdd(gys, other.AsSpan(io, cols), gs, gs);
                    else TensorPrimitives.MultiplyAdd(gys, other[io], gs, gs);
                }
                else g[ig] += otherRow ? TensorPrimitives.Dot(gys, other.AsSpan(io, cols)) : other[io] * TensorPrimitives.Sum(gys);
            }
            else
            {
                for (int j = 0; j < cols; j++)
                {
                    float bv = bRow ? b[ib + j] : b[ib];
                    float d = forA ? 1f / bv : -y[row * cols + j] / bv;
                    if (gRow) g[ig + j] += gys[j] * d;
                    else g[ig] += gys[j] * d;
                }
            }
            Advance(bc, idx, ref ia, ref ib);
        }
    }

    static void Advance(Broadcast bc, Span<int> idx, ref int ia, ref int ib)
    {
        for (int ax = idx.Length - 2; ax >= 0; ax--)
        {
            idx[ax]++;
            ia += bc.StrideA[ax];
            ib += bc.StrideB[ax];
            if (idx[ax] < bc.OutDims[ax]) return;
            ia -= bc.StrideA[ax] * bc.OutDims[ax];
            ib -= bc.StrideB[ax] * bc.OutDims[ax];
            idx[ax] = 0;
        }
    }
}
