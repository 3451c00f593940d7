using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors;

/// <summary>The first layer of DIN's local activation unit over packed history rows, as one op.</summary>
public static partial class Ops
{
    /// <summary>
    /// h[r] = keys[r]·Wk + (keys[r] ⊙ query[s])·Wp + queryProj[s] for every packed history row r
    /// of sample s = rowSample[r] — the unit's first layer over [q, k, q − k, q ⊙ k] in its
    /// factored form. Built as one GEMM of [keys | keys ⊙ q] (K = 2·k) by [Wk; Wp] into rows
    /// pre-filled with queryProj, so the query rows, the product and the two partial projections
    /// never exist as separate [rows, ·] tensors; the backward makes dW with one GEMM and d[keys |
    /// product] with another, then one pass per sample adds the key, query and queryProj gradients.
    /// Rows of a sample are contiguous: sample s owns rows offsets[s]..offsets[s+1]; rows past
    /// offsets[^1] (size-class padding) belong to rowSample[r] and are added after all others.
    /// </summary>
    /// <param name="keys">[N, k] packed history keys.</param>
    /// <param name="query">[B, k] the target written as a history key.</param>
    /// <param name="keyWeight">[k, H] Wk.</param>
    /// <param name="productWeight">[k, H] Wp.</param>
    /// <param name="queryProj">[B, H] the query's part (its projection and the layer's bias), once per sample.</param>
    public static Tensor ActivationUnitInput(Tensor keys, Tensor query, int[] rowSample, int[] offsets,
        Tensor keyWeight, Tensor productWeight, Tensor queryProj)
    {
        int n = keys.Rows, k = keys.Cols, bsz = query.Rows, h = keyWeight.Cols;
        CheckUnitInput(keys, query, rowSample, offsets, keyWeight, productWeight, queryProj);

        var x = Tensor.Temp([n, 2 * k]);     // [keys | keys ⊙ query rows]
        var w = Tensor.Temp([2 * k, h]);     // [Wk; Wp]
        keyWeight.Span.CopyTo(w.Data);
        productWeight.Span.CopyTo(w.Data.AsSpan(k * h));
        var y = Tensor.Temp([n, h]);
        unsafe
        {
            fixed (float* pk = keys.Data, pq = query.Data, pqp = queryProj.Data, px = x.Data, py = y.Data)
            fixed (int* prs = rowSample)
            {
                var job = new InputRowsJob { Keys = pk, Query = pq, QueryProj = pqp, X = px, Y = py, RowSample = prs, K = k, H = h };
                KernelThreads.Run(job, n, KernelThreads.ForElements((long)n * (2 * k + h)));
            }
        }
        Gemm.Sgemm(false, false, n, h, 2 * k, 1f, x.Data, 2 * k, w.Data, h, 1f, y.Data, h);   // y = x·w + queryProj rows

        if (Tape.IsRecording && (keys.RequiresGrad || query.RequiresGrad || keyWeight.RequiresGrad || productWeight.RequiresGrad || queryProj.RequiresGrad))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var gy = y.Grad.Data;
                if (keyWeight.RequiresGrad || productWeight.RequiresGrad)
                {
                    var gw = Tensor.Temp([2 * k, h]).Data;
                    Gemm.Sgemm(true, false, 2 * k, h, n, 1f, x.Data, 2 * k, gy, h, 0f, gw, h);
                    if (keyWeight.RequiresGrad) System.Numerics.Tensors.TensorPrimitives.Add(keyWeight.GradBuffer().Span, gw.AsSpan(0, k * h), keyWeight.Grad!.Span);
                    if (productWeight.RequiresGrad) System.Numerics.Tensors.TensorPrimitives.Add(productWeight.GradBuffer().Span, gw.AsSpan(k * h, k * h), productWeight.Grad!.Span);
                }
                bool wantRows = keys.RequiresGrad || query.RequiresGrad;
                if (!wantRows && !queryProj.RequiresGrad) return;
                var gx = wantRows ? Tensor.Temp([n, 2 * k]).Data : null;
                if (gx is not null) Gemm.Sgemm(false, true, n, 2 * k, h, 1f, gy, h, w.Data, h, 0f, gx, 2 * k);
                bool freshKeys = false;
                var gk = keys.RequiresGrad ? keys.GradBufferForWrite(out freshKeys).Data : null;
                var gq = query.RequiresGrad ? query.GradBuffer().Data : null;
                var gqp = queryProj.RequiresGrad ? queryProj.GradBuffer().Data : null;
                unsafe
                {
                    fixed (float* pk = keys.Data, pq = query.Data, pgy = gy, pgx = gx, pgk = gk, pgq = gq, pgqp = gqp)
                    fixed (int* prs = rowSample, poff = offsets)
                    {
                        var job = new InputGradJob
                        {
                            Keys = pk, Query = pq, Gy = pgy, Gx = pgx, KeysGrad = pgk, QueryGrad = pgq, QueryProjGrad = pgqp,
                            RowSample = prs, Offsets = poff, K = k, H = h, OverwriteKeys = freshKeys,
                        };
                        KernelThreads.Run(job, bsz, KernelThreads.ForElements((long)n * (2 * k + h)));
                        // Padding rows past the last sample: after every sample's own rows, in row order.
                        for (int r = offsets[^1]; r < n; r++) job.Row(r, rowSample[r]);
                    }
                }
            });
        return y;
    }

    /// <summary>The shapes and row-to-sample layout <see cref="ActivationUnitInput"/> (and the tiled unit built on its form) rely on.</summary>
    internal static void CheckUnitInput(Tensor keys, Tensor query, int[] rowSample, int[] offsets, Tensor keyWeight, Tensor productWeight, Tensor queryProj)
    {
        int n = keys.Rows, k = keys.Cols, bsz = query.Rows, h = keyWeight.Cols;
        if (keys.Rank != 2 || query.Rank != 2 || query.Cols != k || keyWeight.Rank != 2 || keyWeight.Rows != k
            || !Tensor.SameShape(keyWeight.Shape, productWeight.Shape) || queryProj.Rank != 2 || queryProj.Rows != bsz || queryProj.Cols != h)
            throw new ArgumentException($"ActivationUnitInput: keys {Tensor.ShapeString(keys.Shape)}, query {Tensor.ShapeString(query.Shape)}, " +
                $"weights {Tensor.ShapeString(keyWeight.Shape)} and {Tensor.ShapeString(productWeight.Shape)}, queryProj {Tensor.ShapeString(queryProj.Shape)} do not fit");
        if (rowSample.Length != n || offsets.Length != bsz + 1 || offsets[0] != 0 || offsets[^1] > n)
            throw new ArgumentException($"ActivationUnitInput: {rowSample.Length} row samples and offsets [0..{offsets[^1]}] for {n} rows of {bsz} samples");
        for (int r = 0; r < n; r++)
            if ((uint)rowSample[r] >= (uint)bsz) throw new ArgumentOutOfRangeException(nameof(rowSample), $"ActivationUnitInput: row {r} belongs to sample {rowSample[r]}, of {bsz}");
        for (int b = 0; b < bsz; b++)   // the backward walks rows by segment: segments and row samples must agree
            for (int r = offsets[b]; r < offsets[b + 1]; r++)
                if (rowSample[r] != b) throw new ArgumentException($"ActivationUnitInput: row {r} lies in sample {b}'s segment [{offsets[b]}, {offsets[b + 1]}) but belongs to sample {rowSample[r]}");
    }

    /// <summary>x[r] = [keys[r] | keys[r] ⊙ query[s]] and y[r] = queryProj[s], s = rowSample[r].</summary>
    unsafe struct InputRowsJob : IRangeJob
    {
        public float* Keys, Query, QueryProj, X, Y;
        public int* RowSample;
        public int K, H;

        public readonly void Run(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                int s = RowSample[r];
                float* kr = Keys + (long)r * K, q = Query + (long)s * K, xr = X + (long)r * 2 * K;
                for (int j = 0; j < K; j += 16)
                {
                    int c = Math.Min(16, K - j);
                    var kv = VectorMath.LoadPartial(kr + j, c);
                    VectorMath.StorePartial(kv, xr + j, c);
                    VectorMath.StorePartial(kv * VectorMath.LoadPartial(q + j, c), xr + K + j, c);
                }
                new ReadOnlySpan<float>(QueryProj + (long)s * H, H).CopyTo(new Span<float>(Y + (long)r * H, H));
            }
        }
    }

    /// <summary>
    /// Per sample, its rows in order: dkeys[r] (=|+=) dx[r, :k] + dx[r, k:] ⊙ query[s],
    /// dquery[s] += dx[r, k:] ⊙ keys[r], dqueryProj[s] += dy[r]. Null targets are skipped.
    /// </summary>
    internal unsafe struct InputGradJob : IRangeJob
    {
        public float* Keys, Query, Gy, Gx, KeysGrad, QueryGrad, QueryProjGrad;
        public int* RowSample, Offsets;
        public int K, H;
        public bool OverwriteKeys;

        public readonly void Run(int start, int end)
        {
            for (int s = start; s < end; s++)
                for (int r = Offsets[s]; r < Offsets[s + 1]; r++) Row(r, s);
        }

        public readonly void Row(int r, int s)
        {
            float* kr = Keys + (long)r * K, q = Query + (long)s * K;
            if (Gx != null)
            {
                float* gxr = Gx + (long)r * 2 * K;
                for (int j = 0; j < K; j += 16)
                {
                    int c = Math.Min(16, K - j);
                    var gProduct = VectorMath.LoadPartial(gxr + K + j, c);
                    if (KeysGrad != null)
                    {
                        float* gk = KeysGrad + (long)r * K + j;
                        var prior = OverwriteKeys ? VectorMath.LoadPartial(gxr + j, c) : VectorMath.LoadPartial(gk, c) + VectorMath.LoadPartial(gxr + j, c);
                        VectorMath.StorePartial(gProduct * VectorMath.LoadPartial(q + j, c) + prior, gk, c);
                    }
                    if (QueryGrad != null)
                    {
                        float* gq = QueryGrad + (long)s * K + j;
                        VectorMath.StorePartial(gProduct * VectorMath.LoadPartial(kr + j, c) + VectorMath.LoadPartial(gq, c), gq, c);
                    }
                }
            }
            if (QueryProjGrad != null)
            {
                float* gy = Gy + (long)r * H, gqp = QueryProjGrad + (long)s * H;
                for (int j = 0; j < H; j += 16)
                {
                    int c = Math.Min(16, H - j);
                    VectorMath.StorePartial(VectorMath.LoadPartial(gqp + j, c) + VectorMath.LoadPartial(gy + j, c), gqp + j, c);
                }
            }
        }
    }
}
