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
        else
        {
            var ad = a.Data; var bd = b.Data; var yd = y.Data;
            bc.ForEach((o, ia, ib) => yd[o] = op switch
            {
                BinaryOp.Add => ad[ia] + bd[ib],
                BinaryOp.Sub => ad[ia] - bd[ib],
                BinaryOp.Mul => ad[ia] * bd[ib],
                _ => ad[ia] / bd[ib],
            });
        }
        if (Tape.Needs(a, b)) Tape.Record(y, () => BinaryBackward(a, b, y, op, bc));
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

    static void BinaryBackward(Tensor a, Tensor b, Tensor y, BinaryOp op, Broadcast bc)
    {
        if (y.Grad is null) return;
        var gy = y.Grad.Data;
        var ad = a.Data; var bd = b.Data;
        // Local derivative of y w.r.t. a and b at each output element, times gy, summed over broadcast axes.
        if (a.RequiresGrad)
        {
            var ga = a.GradBuffer().Data;
            if (a.Size == y.Size && b.Size == y.Size && op is BinaryOp.Add or BinaryOp.Sub)
                TensorPrimitives.Add(ga, gy.AsSpan(0, y.Size), ga);
            else if (a.Size == y.Size && b.Size == y.Size && op == BinaryOp.Mul)
                TensorPrimitives.MultiplyAdd(gy.AsSpan(0, y.Size), bd.AsSpan(0, b.Size), ga, ga);
            else
                bc.ForEach((o, ia, ib) => ga[ia] += op switch
                {
                    BinaryOp.Add or BinaryOp.Sub => gy[o],
                    BinaryOp.Mul => gy[o] * bd[ib],
                    _ => gy[o] / bd[ib],
                });
        }
        if (b.RequiresGrad)
        {
            var gb = b.GradBuffer().Data;
            if (a.Size == y.Size && b.Size == y.Size && op == BinaryOp.Add)
                TensorPrimitives.Add(gb, gy.AsSpan(0, y.Size), gb);
            else if (a.Size == y.Size && b.Size == y.Size && op == BinaryOp.Mul)
                TensorPrimitives.MultiplyAdd(gy.AsSpan(0, y.Size), ad.AsSpan(0, a.Size), gb, gb);
            else if (op == BinaryOp.Add && a.Size == y.Size && Broadcast.IsTrailingBlock(a.Shape, b.Shape))
            {
                int n = b.Size;
                for (int o = 0; o < y.Size; o += n) TensorPrimitives.Add(gb.AsSpan(0, n), gy.AsSpan(o, n), gb.AsSpan(0, n));
            }
            else
            {
                var yd = y.Data;
                bc.ForEach((o, ia, ib) => gb[ib] += op switch
                {
                    BinaryOp.Add => gy[o],
                    BinaryOp.Sub => -gy[o],
                    BinaryOp.Mul => gy[o] * ad[ia],
                    _ => -gy[o] * yd[o] / bd[ib],
                });
            }
        }
    }

}
