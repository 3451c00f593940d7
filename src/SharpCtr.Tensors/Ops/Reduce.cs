using System.Numerics.Tensors;

namespace SharpCtr.Tensors;

/// <summary>Sum, mean and max over all elements or along one axis.</summary>
public static partial class Ops
{
    public static Tensor Sum(Tensor x)
    {
        var y = Tensor.Temp([]);
        y.Data[0] = TensorPrimitives.Sum(x.Span);
        if (Tape.Needs(x))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                TensorPrimitives.Add(x.GradBuffer().Span, y.Grad.Data[0], x.Grad!.Span);
            });
        return y;
    }

    public static Tensor Mean(Tensor x) => MulScalar(Sum(x), 1f / Math.Max(1, x.Size));

    /// <summary>Splits a shape around <paramref name="axis"/> into (outer, axis length, inner).</summary>
    static (int outer, int len, int inner) AroundAxis(int[] shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        return (outer, shape[axis], inner);
    }

    static int[] ReducedShape(int[] shape, int axis, bool keepDim)
    {
        if (keepDim) { var s = (int[])shape.Clone(); s[axis] = 1; return s; }
        var r = new int[shape.Length - 1];
        for (int i = 0, j = 0; i < shape.Length; i++) if (i != axis) r[j++] = shape[i];
        return r;
    }

    public static Tensor Sum(Tensor x, int axis, bool keepDim = false)
    {
        axis = Tensor.NormalizeAxis(axis, x.Rank);
        var (outer, len, inner) = AroundAxis(x.Shape, axis);
        var y = Tensor.Temp(ReducedShape(x.Shape, axis, keepDim), zero: true);
        var xd = x.Data; var yd = y.Data;
        // Rows here are often 1–16 floats (a field axis, an embedding): inline row adds, not a library call each.
        for (int o = 0; o < outer; o++)
            for (int l = 0; l < len; l++)
                Kernels.RowMath.AddRow(xd, (o * len + l) * inner, yd, o * inner, inner);
        if (Tape.Needs(x))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gx = x.GradBufferForWrite(out bool fresh).Data; var gy = y.Grad.Data;
                for (int o = 0; o < outer; o++)
                    for (int l = 0; l < len; l++)
                        if (fresh) Kernels.RowMath.CopyRow(gy, o * inner, gx, (o * len + l) * inner, inner);
                        else Kernels.RowMath.AddRow(gy, o * inner, gx, (o * len + l) * inner, inner);
            });
        return y;
    }

    public static Tensor Mean(Tensor x, int axis, bool keepDim = false) =>
        MulScalar(Sum(x, axis, keepDim), 1f / Math.Max(1, x.Dim(axis)));

    /// <summary>Maximum along an axis; the gradient goes to the first position holding the max.</summary>
    public static Tensor Max(Tensor x, int axis, bool keepDim = false)
    {
        axis = Tensor.NormalizeAxis(axis, x.Rank);
        var (outer, len, inner) = AroundAxis(x.Shape, axis);
        if (len == 0) throw new ArgumentException($"Max over an empty axis {axis} of shape {Tensor.ShapeString(x.Shape)}");
        var y = Tensor.Temp(ReducedShape(x.Shape, axis, keepDim));
        var arg = new int[y.Size];
        var xd = x.Data; var yd = y.Data;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0; float bv = xd[o * len * inner + i];
                for (int l = 1; l < len; l++)
                {
                    float v = xd[(o * len + l) * inner + i];
                    if (v > bv || float.IsNaN(v)) { bv = v; best = l; }
                }
                yd[o * inner + i] = bv;
                arg[o * inner + i] = best;
            }
        if (Tape.Needs(x))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gx = x.GradBuffer().Data; var gy = y.Grad.Data;
                for (int o = 0; o < outer; o++)
                    for (int i = 0; i < inner; i++)
                        gx[(o * len + arg[o * inner + i]) * inner + i] += gy[o * inner + i];
            });
        return y;
    }
}
