namespace SharpCtr.Tensors;

/// <summary>Softmax and log-softmax along the last axis, with an optional keep-mask.</summary>
public static partial class Ops
{
    /// <summary>
    /// Softmax over the last axis. <paramref name="mask"/> (broadcastable to x; 1 = keep, 0 = masked)
    /// gives masked positions probability 0; a fully masked row becomes all zeros rather than NaN.
    /// </summary>
    public static Tensor Softmax(Tensor x, Tensor? mask = null) => SoftmaxCore(x, mask, log: false);

    /// <summary>Log-softmax over the last axis. Masked positions output 0 and receive no gradient.</summary>
    public static Tensor LogSoftmax(Tensor x, Tensor? mask = null) => SoftmaxCore(x, mask, log: true);

    static Tensor SoftmaxCore(Tensor x, Tensor? mask, bool log)
    {
        int cols = x.Cols, rows = x.Rows;
        float[]? keep = mask is null ? null : ExpandMask(mask, x.Shape);
        var y = Tensor.Temp(x.Shape);
        var xd = x.Data; var yd = y.Data;
        for (int r = 0; r < rows; r++)
        {
            int o = r * cols;
            float max = float.NegativeInfinity;
            for (int j = 0; j < cols; j++) if ((keep is null || keep[o + j] != 0) && xd[o + j] > max) max = xd[o + j];
            if (float.IsNegativeInfinity(max)) { Array.Clear(yd, o, cols); continue; }
            double sum = 0;
            for (int j = 0; j < cols; j++)
            {
                float e = keep is null || keep[o + j] != 0 ? MathF.Exp(xd[o + j] - max) : 0f;
                yd[o + j] = e;
                sum += e;
            }
            if (log)
            {
                float lse = max + (float)Math.Log(sum);
                for (int j = 0; j < cols; j++) yd[o + j] = keep is null || keep[o + j] != 0 ? xd[o + j] - lse : 0f;
            }
            else
            {
                float inv = (float)(1 / sum);
                for (int j = 0; j < cols; j++) yd[o + j] *= inv;
            }
        }
        if (Tape.Needs(x))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gx = x.GradBuffer().Data; var gy = y.Grad.Data;
                for (int r = 0; r < rows; r++)
                {
                    int o = r * cols;
                    if (log)
                    {
                        // d/dx_j Σ_i gy_i (x_i − lse) = gy_j − softmax_j · Σ_i gy_i (over kept positions)
                        double s = 0;
                        for (int j = 0; j < cols; j++) if (keep is null || keep[o + j] != 0) s += gy[o + j];
                        for (int j = 0; j < cols; j++)
                            if (keep is null || keep[o + j] != 0) gx[o + j] += gy[o + j] - MathF.Exp(yd[o + j]) * (float)s;
                    }
                    else
                    {
                        double dot = 0;
                        for (int j = 0; j < cols; j++) dot += gy[o + j] * yd[o + j];
                        for (int j = 0; j < cols; j++) gx[o + j] += yd[o + j] * (gy[o + j] - (float)dot);
                    }
                }
            });
        return y;
    }

    /// <summary>The mask broadcast to <paramref name="shape"/> as a flat array (the mask itself when shapes match).</summary>
    static float[] ExpandMask(Tensor mask, int[] shape)
    {
        if (Broadcast.SameShape(mask.Shape, shape)) return mask.Data;
        var bc = new Broadcast(shape, mask.Shape, "mask");
        if (!Broadcast.SameShape(bc.OutShape, shape)) throw new ArgumentException($"mask of shape {Tensor.ShapeString(mask.Shape)} does not broadcast to {Tensor.ShapeString(shape)}");
        var m = Tensor.Temp(shape).Data;
        var md = mask.Data;
        if (Broadcast.IsTrailingBlock(shape, mask.Shape))
            for (int o = 0; o < m.Length; o += mask.Size) Array.Copy(md, 0, m, o, mask.Size);
        else bc.ForEach((o, _, ib) => m[o] = md[ib]);
        return m;
    }
}
