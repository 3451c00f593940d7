namespace SharpCtr.Tensors;

/// <summary>The factorization machine's pairwise term as one op.</summary>
public static partial class Ops
{
    /// <summary>
    /// y[b] = Σ_{i&lt;j} ⟨v[b, i], v[b, j]⟩ for v [B, F, D], as [B]; the gradient is
    /// g[b]·(Σ_f v[b, f] − v[b, i]). One pass each way (<see cref="Kernels.FactorizationPairs"/>),
    /// with the same bits as the six-op form ½·Σ_d[(Σ_f v)² − Σ_f v²] it replaces.
    /// </summary>
    public static Tensor FactorizationPairs(Tensor v)
    {
        if (v.Rank != 3) throw new ArgumentException($"FactorizationPairs needs v as [batch, fields, dim], got {Tensor.ShapeString(v.Shape)}");
        int rows = v.Shape[0], fields = v.Shape[1], dim = v.Shape[2];
        var y = Tensor.Temp([rows]);
        Kernels.FactorizationPairs.Forward(v.Span, rows, fields, dim, y.Span);
        if (Tape.Needs(v))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gv = v.GradBufferForWrite(out bool fresh);
                Kernels.FactorizationPairs.Backward(v.Span, y.Grad.Span, rows, fields, dim, gv.Span, accumulate: !fresh);
            });
        return y;
    }
}
