namespace SharpCtr.Tensors;

/// <summary>Pooling over padded sequences, where, masked fill, dropout, PReLU.</summary>
public static partial class Ops
{
    /// <summary>Σ_l mask[b,l]·x[b,l,:] for x [B, L, D] and mask [B, L] (0/1 or weights).</summary>
    public static Tensor MaskedSum(Tensor x, Tensor mask) => MaskedPool(x, mask, mean: false);

    /// <summary>Masked mean over L; rows with no kept position give zeros (padding never dilutes the mean).</summary>
    public static Tensor MaskedMean(Tensor x, Tensor mask) => MaskedPool(x, mask, mean: true);

    static Tensor MaskedPool(Tensor x, Tensor mask, bool mean)
    {
        if (x.Rank != 3 || mask.Rank != 2 || mask.Shape[0] != x.Shape[0] || mask.Shape[1] != x.Shape[1])
            throw new ArgumentException($"masked pooling needs x [B, L, D] and mask [B, L], got {Tensor.ShapeString(x.Shape)} and {Tensor.ShapeString(mask.Shape)}");
        int bsz = x.Shape[0], len = x.Shape[1], d = x.Shape[2];
        var y = Tensor.Temp([bsz, d], zero: true);
        var scale = Tensor.Temp([bsz]).Data;
        var xd = x.Data; var md = mask.Data; var yd = y.Data;
        for (int b = 0; b < bsz; b++)
        {
            float count = 0;
            for (int l = 0; l < len; l++) count += md[b * len + l] != 0 ? 1 : 0;
            scale[b] = mean ? 1f / Math.Max(1f, count) : 1f;
            var row = yd.AsSpan(b * d, d);
            for (int l = 0; l < len; l++)
            {
                float w = md[b * len + l] * scale[b];
                if (w != 0) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(xd.AsSpan((b * len + l) * d, d), w, row, row);
            }
        }
        if (Tape.Needs(x))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gx = x.GradBuffer().Data; var gy = y.Grad.Data;
                for (int b = 0; b < bsz; b++)
                    for (int l = 0; l < len; l++)
                    {
                        float w = md[b * len + l] * scale[b];
                        if (w == 0) continue;
                        var dst = gx.AsSpan((b * len + l) * d, d);
                        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(gy.AsSpan(b * d, d), w, dst, dst);
                    }
            });
        return y;
    }

    /// <summary>
    /// Σ_{r in segment b} w[r]·x[row(r),:] for packed rows, weights w [N] and segment bounds
    /// offsets [B+1] (segment b is rows offsets[b]..offsets[b+1]): attention pooling over
    /// variable-length histories stored without padding. row(r) is r, or rowOf[r] when given —
    /// the candidates of one request then read one shared copy of the history instead of a
    /// gathered [N, D] copy. Empty segments give zeros; rows past offsets[B] (size-class padding)
    /// are ignored.
    /// </summary>
    public static Tensor SegmentWeightedSum(Tensor x, Tensor w, int[] offsets, int[]? rowOf = null)
    {
        int n = w.Size, d = x.Cols, bsz = offsets.Length - 1;
        if (offsets[^1] > n || offsets[0] != 0 || (rowOf is null ? x.Rows != n : rowOf.Length < offsets[^1]))
            throw new ArgumentException($"SegmentWeightedSum: x has {x.Rows} rows, w {w.Size} values, offsets end at {offsets[^1]}, row map {rowOf?.Length.ToString() ?? "none"}");
        if (rowOf is not null)
            for (int r = 0; r < offsets[^1]; r++)
                if ((uint)rowOf[r] >= (uint)x.Rows) throw new ArgumentException($"SegmentWeightedSum: row map entry {r} is {rowOf[r]}, x has {x.Rows} rows");
        var y = Tensor.Temp([bsz, d], zero: true);
        // Samples are independent, so they split over the cores; in the backward only when no two
        // rows read the same x row (no row map), since then no two samples add into one gradient row.
        int workers = Kernels.KernelThreads.ForElements((long)offsets[^1] * d);
        Kernels.KernelThreads.Run(new SegmentWeightedSumJob(x.Data, w.Data, y.Data, null, null, offsets, rowOf, d, backward: false), bsz, workers);
        if (Tape.Needs(x, w))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gx = x.RequiresGrad ? x.GradBuffer().Data : null;
                var gw = w.RequiresGrad ? w.GradBuffer().Data : null;
                var job = new SegmentWeightedSumJob(x.Data, w.Data, y.Grad.Data, gx, gw, offsets, rowOf, d, backward: true);
                Kernels.KernelThreads.Run(job, bsz, rowOf is null ? workers : 1);
            });
        return y;
    }

    /// <summary>SegmentWeightedSum over samples [start, end): forward y[b] += w[r]·x[r]; backward gw[r] += x[r]·gy[b], gx[r] += w[r]·gy[b].</summary>
    readonly struct SegmentWeightedSumJob(float[] x, float[] w, float[] y, float[]? gx, float[]? gw, int[] offsets, int[]? rowOf, int d, bool backward)
        : Kernels.IRangeJob
    {
        public void Run(int start, int end)
        {
            for (int b = start; b < end; b++)
                for (int r = offsets[b]; r < offsets[b + 1]; r++)
                {
                    int xr = rowOf?[r] ?? r;
                    if (!backward) { Kernels.RowMath.AddScaledRow(x, xr * d, w[r], y, b * d, d); continue; }   // short rows: inline
                    if (gw is not null) gw[r] += System.Numerics.Tensors.TensorPrimitives.Dot(x.AsSpan(xr * d, d), y.AsSpan(b * d, d));
                    if (gx is not null) Kernels.RowMath.AddScaledRow(y, b * d, w[r], gx, xr * d, d);
                }
        }
    }

    /// <summary>cond ≠ 0 ? a : b, elementwise; all three of one shape.</summary>
    public static Tensor Where(Tensor cond, Tensor a, Tensor b)
    {
        if (!Broadcast.SameShape(cond.Shape, a.Shape) || !Broadcast.SameShape(a.Shape, b.Shape))
            throw new ArgumentException($"Where needs equal shapes, got {Tensor.ShapeString(cond.Shape)}, {Tensor.ShapeString(a.Shape)}, {Tensor.ShapeString(b.Shape)}");
        var y = Tensor.Temp(a.Shape);
        var c = cond.Data;
        for (int i = 0; i < y.Size; i++) y.Data[i] = c[i] != 0 ? a.Data[i] : b.Data[i];
        if (Tape.Needs(a, b))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gy = y.Grad.Data;
                if (a.RequiresGrad) { var ga = a.GradBuffer().Data; for (int i = 0; i < y.Size; i++) if (c[i] != 0) ga[i] += gy[i]; }
                if (b.RequiresGrad) { var gb = b.GradBuffer().Data; for (int i = 0; i < y.Size; i++) if (c[i] == 0) gb[i] += gy[i]; }
            });
        return y;
    }

    /// <summary>Sets x to <paramref name="value"/> where the (broadcastable) mask is non-zero.</summary>
    public static Tensor MaskedFill(Tensor x, Tensor mask, float value)
    {
        var m = ExpandMask(mask, x.Shape);
        var y = Tensor.Temp(x.Shape);
        for (int i = 0; i < y.Size; i++) y.Data[i] = m[i] != 0 ? value : x.Data[i];
        if (Tape.Needs(x))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gx = x.GradBuffer().Data; var gy = y.Grad.Data;
                for (int i = 0; i < y.Size; i++) if (m[i] == 0) gx[i] += gy[i];
            });
        return y;
    }

    /// <summary>Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1−p).</summary>
    public static Tensor Dropout(Tensor x, float p, Rng rng)
    {
        if (p < 0 || p >= 1) throw new ArgumentOutOfRangeException(nameof(p), $"dropout probability must be in [0, 1), got {p}");
        if (p == 0) return x;
        var keep = Tensor.Temp(x.Shape).Data;
        float scale = 1f / (1 - p);
        for (int i = 0; i < x.Size; i++) keep[i] = rng.NextFloat() >= p ? scale : 0f;
        var y = Tensor.Temp(x.Shape);
        System.Numerics.Tensors.TensorPrimitives.Multiply(x.Span, keep.AsSpan(0, x.Size), y.Span);
        if (Tape.Needs(x))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gx = x.GradBuffer().Span;
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(y.Grad.Span, keep.AsSpan(0, x.Size), gx, gx);
            });
        return y;
    }

    /// <summary>x &gt; 0 ? x : α·x with a learned α per channel (last axis) or one shared α.</summary>
    public static Tensor PRelu(Tensor x, Tensor alpha)
    {
        int c = x.Cols;
        if (alpha.Size != 1 && alpha.Size != c) throw new ArgumentException($"PReLU alpha has {alpha.Size} elements; expected 1 or {c}");
        bool shared = alpha.Size == 1;
        var y = Tensor.Temp(x.Shape);
        var xd = x.Data; var ad = alpha.Data;
        for (int i = 0; i < x.Size; i++) y.Data[i] = xd[i] > 0 ? xd[i] : ad[shared ? 0 : i % c] * xd[i];
        if (Tape.Needs(x, alpha))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gy = y.Grad.Data;
                var gx = x.RequiresGrad ? x.GradBuffer().Data : null;
                var ga = alpha.RequiresGrad ? alpha.GradBuffer().Data : null;
                for (int i = 0; i < x.Size; i++)
                {
                    int j = shared ? 0 : i % c;
                    if (xd[i] > 0) { if (gx is not null) gx[i] += gy[i]; }
                    else
                    {
                        if (gx is not null) gx[i] += ad[j] * gy[i];
                        if (ga is not null) ga[j] += xd[i] * gy[i];
                    }
                }
            });
        return y;
    }
}
