using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors;

/// <summary>Matrix products: 2-D, a stack of rows times one matrix, and batched, with transposed operands.</summary>
public static partial class Ops
{
    /// <summary>
    /// op(a) · op(b), where op transposes the last two axes when asked.
    /// Shapes: a [..., m, k] with b [k, n] (a's leading axes fold into rows when not transposed), or
    /// a [B..., m, k] with b [B..., k, n] (batched, same leading axes).
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transA = false, bool transB = false)
    {
        if (a.Rank < 2 || b.Rank < 2) throw new ArgumentException($"MatMul needs rank ≥ 2 operands, got {Tensor.ShapeString(a.Shape)} and {Tensor.ShapeString(b.Shape)}");
        int ar = a.Rank, br = b.Rank;
        int m = transA ? a.Shape[ar - 1] : a.Shape[ar - 2];
        int ka = transA ? a.Shape[ar - 2] : a.Shape[ar - 1];
        int kb = transB ? b.Shape[br - 1] : b.Shape[br - 2];
        int n = transB ? b.Shape[br - 2] : b.Shape[br - 1];
        if (ka != kb) throw new ArgumentException($"MatMul: inner sizes differ: {Tensor.ShapeString(a.Shape)}{(transA ? "ᵀ" : "")} · {Tensor.ShapeString(b.Shape)}{(transB ? "ᵀ" : "")}");
        int k = ka;
        int batch;
        bool shared = br == 2;
        if (shared)
        {
            batch = a.Size / (m * k == 0 ? 1 : m * k);
            if (!transA) { m *= batch; batch = 1; } // fold leading axes into rows: one big GEMM
        }
        else
        {
            if (ar != br || !a.Shape.AsSpan(0, ar - 2).SequenceEqual(b.Shape.AsSpan(0, br - 2)))
                throw new ArgumentException($"batched MatMul needs equal leading axes, got {Tensor.ShapeString(a.Shape)} and {Tensor.ShapeString(b.Shape)}");
            batch = a.Size / Math.Max(1, m * k);
        }
        var shape = (int[])a.Shape.Clone();
        shape[ar - 2] = transA ? a.Shape[ar - 1] : a.Shape[ar - 2];
        shape[ar - 1] = n;
        var y = Tensor.Temp(shape);
        int mm = shared && !transA ? m : (transA ? a.Shape[ar - 1] : a.Shape[ar - 2]);
        Batched(transA, transB, batch, mm, n, k, a.Data, transA ? mm : k, mm * k, b.Data, transB ? k : n, shared ? 0 : k * n, y.Data, n, 0f);
        if (Tape.Needs(a, b))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gy = y.Grad.Data;
                int lda = transA ? mm : k, ldb = transB ? k : n;
                // Each product below writes its whole gradient: a gradient buffer made for it is
                // overwritten (beta 0) instead of zeroed and then added to.
                if (a.RequiresGrad)
                {
                    var ga = GradForProduct(a, mm, n, k, out float beta);
                    if (!transA) Batched(false, !transB, batch, mm, k, n, gy, n, mm * n, b.Data, ldb, shared ? 0 : k * n, ga, lda, beta);
                    else Batched(transB, true, batch, k, mm, n, b.Data, ldb, shared ? 0 : k * n, gy, n, mm * n, ga, lda, beta);
                }
                if (b.RequiresGrad)
                {
                    var gb = GradForProduct(b, mm, n, k, out float beta);
                    // With a shared b, every batch's contribution accumulates into the same matrix.
                    if (!transB) Batched(!transA, false, batch, k, n, mm, a.Data, lda, mm * k, gy, n, mm * n, gb, n, beta, shared);
                    else Batched(true, transA, batch, n, k, mm, gy, n, mm * n, a.Data, lda, mm * k, gb, k, beta, shared);
                }
            });
        return y;
    }

    /// <summary>x's gradient buffer for a product that writes all of it: beta 0 for a new buffer
    /// (not zeroed first), 1 for an existing one; a new buffer is zeroed only when some size is 0
    /// (the product then writes nothing).</summary>
    static float[] GradForProduct(Tensor x, int m, int n, int k, out float beta)
    {
        var g = x.GradBufferForWrite(out bool fresh).Data;
        beta = fresh ? 0f : 1f;
        if (fresh && (m == 0 || n == 0 || k == 0)) Array.Clear(g);
        return g;
    }

    /// <summary>C_i = op(A_i)·op(B_i) + beta·C_i over a batch; a zero stride repeats that operand.
    /// With <paramref name="sharedC"/> every item accumulates into the same C (gradient of a shared weight).</summary>
    static void Batched(bool transA, bool transB, int batch, int m, int n, int k,
        float[] a, int lda, int strideA, float[] b, int ldb, int strideB, float[] c, int ldc, float beta, bool sharedC = false)
    {
        if (m == 0 || n == 0 || batch == 0) return;
        if (!sharedC)
        {
            Gemm.SgemmStridedBatched(transA, transB, m, n, k, 1f, a, lda, strideA, b, ldb, strideB, beta, c, ldc, (long)m * ldc, batch);
            return;
        }
        for (int i = 0; i < batch; i++)
            Gemm.Sgemm(transA, transB, m, n, k, 1f, a.AsSpan(i * strideA), lda, b.AsSpan(i * strideB), ldb,
                i > 0 ? 1f : beta, c, ldc);
    }
}
