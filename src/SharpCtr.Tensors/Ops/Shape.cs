namespace SharpCtr.Tensors;

/// <summary>Reshape, permute/transpose, concat, slice, expand: ops that move data without arithmetic.</summary>
public static partial class Ops
{
    /// <summary>Same data, new shape (one axis may be -1). Shares the input's array.</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        shape = (int[])shape.Clone();
        int infer = Array.IndexOf(shape, -1);
        if (infer >= 0)
        {
            int known = 1;
            for (int i = 0; i < shape.Length; i++) if (i != infer) known *= shape[i];
            if (known == 0 || x.Size % known != 0) throw new ArgumentException($"cannot reshape {Tensor.ShapeString(x.Shape)} into {Tensor.ShapeString(shape)}");
            shape[infer] = x.Size / known;
        }
        if (Tensor.SizeOf(shape) != x.Size) throw new ArgumentException($"cannot reshape {Tensor.ShapeString(x.Shape)} ({x.Size} elements) into {Tensor.ShapeString(shape)}");
        var y = x.ViewAs(shape);
        if (Tape.Needs(x))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gx = x.GradBufferForWrite(out bool fresh).Span;
                if (fresh) y.Grad.Span.CopyTo(gx);
                else System.Numerics.Tensors.TensorPrimitives.Add(gx, y.Grad.Span, gx);
            });
        return y;
    }

    /// <summary>Same values, cut from the tape: no gradient reaches x through the result. Shares x's array.</summary>
    public static Tensor StopGradient(Tensor x) => Tape.Needs(x) ? x.ViewAs(x.Shape) : x;

    public static Tensor Transpose(Tensor x, int axis0 = -2, int axis1 = -1)
    {
        var perm = new int[x.Rank];
        for (int i = 0; i < perm.Length; i++) perm[i] = i;
        int a = Tensor.NormalizeAxis(axis0, x.Rank), b = Tensor.NormalizeAxis(axis1, x.Rank);
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(x, perm);
    }

    /// <summary>Output axis i is input axis perm[i].</summary>
    public static Tensor Permute(Tensor x, params int[] perm)
    {
        int r = x.Rank;
        if (perm.Length != r) throw new ArgumentException($"Permute: {perm.Length} axes given for rank {r}");
        var seen = new bool[r];
        foreach (var p in perm) { if ((uint)p >= (uint)r || seen[p]) throw new ArgumentException($"Permute: [{string.Join(",", perm)}] is not a permutation of {r} axes"); seen[p] = true; }
        var shape = new int[r];
        for (int i = 0; i < r; i++) shape[i] = x.Shape[perm[i]];
        var y = Tensor.Temp(shape);
        var inStride = Strides(x.Shape);
        var srcStride = new int[r];
        for (int i = 0; i < r; i++) srcStride[i] = inStride[perm[i]];
        Gather(x.Data, y.Data, shape, srcStride, accumulate: false, reverse: false);
        if (Tape.Needs(x))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                Gather(x.GradBuffer().Data, y.Grad.Data, shape, srcStride, accumulate: true, reverse: true);
            });
        return y;
    }

    internal static int[] Strides(int[] shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }

    /// <summary>Walks <paramref name="outShape"/> in order; element o ↔ src[Σ idx·srcStride]. Reverse scatters back (+=).</summary>
    static void Gather(float[] src, float[] dst, int[] outShape, int[] srcStride, bool accumulate, bool reverse)
    {
        int r = outShape.Length, n = Tensor.SizeOf(outShape);
        if (r == 0) { if (reverse) src[0] += dst[0]; else dst[0] = src[0]; return; }
        Span<int> idx = stackalloc int[r];
        int last = outShape[r - 1], lastStride = srcStride[r - 1];
        int s = 0;
        for (int o = 0; o < n; o += last)
        {
            if (reverse) for (int j = 0; j < last; j++) src[s + j * lastStride] += dst[o + j];
            else if (accumulate) for (int j = 0; j < last; j++) dst[o + j] += src[s + j * lastStride];
            else for (int j = 0; j < last; j++) dst[o + j] = src[s + j * lastStride];
            for (int ax = r - 2; ax >= 0; ax--)
            {
                idx[ax]++;
                s += srcStride[ax];
                if (idx[ax] < outShape[ax]) break;
                s -= srcStride[ax] * outShape[ax];
                idx[ax] = 0;
            }
        }
    }

    /// <summary>Joins tensors along an axis; all other axes must match.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> xs, int axis)
    {
        if (xs.Count == 0) throw new ArgumentException("Concat of no tensors");
        var first = xs[0];
        axis = Tensor.NormalizeAxis(axis, first.Rank);
        int total = 0;
        foreach (var t in xs)
        {
            if (t.Rank != first.Rank) throw new ArgumentException($"Concat: rank {t.Rank} vs {first.Rank}");
            for (int i = 0; i < t.Rank; i++)
                if (i != axis && t.Shape[i] != first.Shape[i])
                    throw new ArgumentException($"Concat along axis {axis}: shapes {Tensor.ShapeString(first.Shape)} and {Tensor.ShapeString(t.Shape)} differ on axis {i}");
            total += t.Shape[axis];
        }
        var shape = (int[])first.Shape.Clone();
        shape[axis] = total;
        var y = Tensor.Temp(shape);
        var (outer, _, inner) = AroundAxis(shape, axis);
        int rowOut = total * inner, off = 0;
        foreach (var t in xs)
        {
            int w = t.Shape[axis] * inner;
            for (int o = 0; o < outer; o++) Kernels.RowMath.CopyRow(t.Data, o * w, y.Data, o * rowOut + off, w);   // often 1–16 floats: inline
            off += w;
        }
        bool any = false;
        foreach (var t in xs) any |= Tape.Needs(t);
        if (any)
        {
            var parts = xs.ToArray();
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                int off2 = 0;
                foreach (var t in parts)
                {
                    int w = t.Shape[axis] * inner;
                    if (t.RequiresGrad)
                    {
                        var g = t.GradBufferForWrite(out bool fresh).Data;   // a new buffer is written, not zeroed and added to
                        for (int o = 0; o < outer; o++)
                            if (fresh) Kernels.RowMath.CopyRow(y.Grad.Data, o * rowOut + off2, g, o * w, w);
                            else Kernels.RowMath.AddRow(y.Grad.Data, o * rowOut + off2, g, o * w, w);
                    }
                    off2 += w;
                }
            });
        }
        return y;
    }

    /// <summary>Elements [start, start+length) along an axis.</summary>
    public static Tensor Slice(Tensor x, int axis, int start, int length)
    {
        axis = Tensor.NormalizeAxis(axis, x.Rank);
        if (start < 0 || length < 0 || start + length > x.Shape[axis])
            throw new ArgumentException($"Slice [{start}, {start + length}) out of range for axis {axis} of shape {Tensor.ShapeString(x.Shape)}");
        var shape = (int[])x.Shape.Clone();
        shape[axis] = length;
        var y = Tensor.Temp(shape);
        var (outer, len, inner) = AroundAxis(x.Shape, axis);
        int w = length * inner;
        for (int o = 0; o < outer; o++) x.Data.AsSpan((o * len + start) * inner, w).CopyTo(y.Data.AsSpan(o * w, w));
        if (Tape.Needs(x))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var g = x.GradBuffer().Data;
                for (int o = 0; o < outer; o++)
                {
                    var dst = g.AsSpan((o * len + start) * inner, w);
                    System.Numerics.Tensors.TensorPrimitives.Add(dst, y.Grad.Data.AsSpan(o * w, w), dst);
                }
            });
        return y;
    }

    public static Tensor[] Split(Tensor x, int axis, params int[] sizes)
    {
        var parts = new Tensor[sizes.Length];
        int start = 0;
        for (int i = 0; i < sizes.Length; i++) { parts[i] = Slice(x, axis, start, sizes[i]); start += sizes[i]; }
        if (start != x.Dim(axis)) throw new ArgumentException($"Split sizes sum to {start}, axis {axis} has {x.Dim(axis)}");
        return parts;
    }

    /// <summary>Broadcasts to a larger shape (size-1 axes repeat); the gradient sums back.</summary>
    public static Tensor Expand(Tensor x, params int[] shape)
    {
        var zero = Tensor.Temp(shape, zero: true);
        var bc = new Broadcast(shape, x.Shape, "Expand");
        if (!Broadcast.SameShape(bc.OutShape, shape)) throw new ArgumentException($"cannot expand {Tensor.ShapeString(x.Shape)} to {Tensor.ShapeString(shape)}");
        return Add(zero, x);
    }

    /// <summary>Tiles the tensor <paramref name="times"/> along an existing axis.</summary>
    public static Tensor Repeat(Tensor x, int axis, int times)
    {
        var copies = new Tensor[times];
        Array.Fill(copies, x);
        return Concat(copies, axis);
    }
}
