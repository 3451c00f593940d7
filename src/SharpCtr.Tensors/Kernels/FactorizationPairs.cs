using System.Runtime.Intrinsics;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// The factorization machine's pairwise term, Σ_{i&lt;j} ⟨v_i, v_j⟩ = ½ Σ_d [(Σ_f v_fd)² − Σ_f v_fd²],
/// and its gradient, each one pass over a row's fields with the sums in registers (the op
/// <see cref="Ops.FactorizationPairs"/>). Written as six ops (sum, product, sum of products,
/// difference, sum, scale) it made six passes and six temporaries over [rows, fields, dim] each
/// way; on a 100-candidate DeepFM request that was ~4 % of the time.
/// Both passes round exactly as that six-op graph did, so training keeps its bits and scoring
/// gives the training graph's value: sums over fields run in field order, the sum over d runs
/// lane by lane in order (not as a tree), and the gradient adds its parts in the graph's order —
/// ((g_v + p) + p) + (r + r) with p = −½g·v and r = ½g·S, S = Σ_f v (FactorizationPairsTests).
/// </summary>
public static unsafe class FactorizationPairs
{
    /// <summary>y[b] for v [rows, fields, dim] (row-major). Rows are split over the kernel threads.</summary>
    public static void Forward(ReadOnlySpan<float> v, int rows, int fields, int dim, Span<float> y)
    {
        CheckFull(v.Length, "v", rows, fields, dim);
        CheckRows(y.Length, "y", rows);
        fixed (float* pv = v, py = y)
        {
            var job = new ForwardJob { V = pv, Y = py, Fields = fields, Dim = dim };
            KernelThreads.Run(job, rows, KernelThreads.ForElements((long)rows * fields * dim));
        }
    }

    /// <summary>
    /// gv [rows, fields, dim] (+)= ∂(Σ_b g[b]·y[b])/∂v = g[b]·(S_b − v): written when
    /// <paramref name="accumulate"/> is false (gv need not be zeroed), else added to gv.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> v, ReadOnlySpan<float> g, int rows, int fields, int dim, Span<float> gv, bool accumulate)
    {
        CheckFull(v.Length, "v", rows, fields, dim);
        CheckRows(g.Length, "g", rows);
        CheckFull(gv.Length, "gv", rows, fields, dim);
        fixed (float* pv = v, pg = g, pgv = gv)
        {
            var job = new BackwardJob { V = pv, G = pg, Gv = pgv, Fields = fields, Dim = dim, Accumulate = accumulate };
            KernelThreads.Run(job, rows, KernelThreads.ForElements(2L * rows * fields * dim));
        }
    }

    struct ForwardJob : IRangeJob
    {
        public float* V, Y;
        public int Fields, Dim;

        public readonly void Run(int start, int end)
        {
            int fields = Fields, dim = Dim;
            float* lanes = stackalloc float[16];
            for (int b = start; b < end; b++)
            {
                float* row = V + (long)b * fields * dim;
                float total = 0;
                for (int j = 0; j < dim; j += 16)
                {
                    int count = Math.Min(16, dim - j);
                    Vector512<float> s = Vector512<float>.Zero, q = Vector512<float>.Zero;
                    for (int f = 0; f < fields; f++)
                    {
                        var x = VectorMath.LoadPartial(row + f * dim + j, count);   // lanes past dim are 0
                        s += x;
                        q += x * x;
                    }
                    Vector512.Store(s * s - q, lanes);
                    for (int l = 0; l < count; l++) total += lanes[l];
                }
                Y[b] = 0.5f * total;
            }
        }
    }

    struct BackwardJob : IRangeJob
    {
        public float* V, G, Gv;
        public int Fields, Dim;
        public bool Accumulate;

        public readonly void Run(int start, int end)
        {
            int fields = Fields, dim = Dim;
            for (int b = start; b < end; b++)
            {
                float* row = V + (long)b * fields * dim, grow = Gv + (long)b * fields * dim;
                float half = 0.5f * G[b];
                var gs = Vector512.Create(half);
                var gq = Vector512.Create(-half);
                for (int j = 0; j < dim; j += 16)
                {
                    int count = Math.Min(16, dim - j);
                    var s = Vector512<float>.Zero;
                    for (int f = 0; f < fields; f++) s += VectorMath.LoadPartial(row + f * dim + j, count);
                    var r = gs * s;
                    var twoR = r + r;
                    for (int f = 0; f < fields; f++)
                    {
                        var p = gq * VectorMath.LoadPartial(row + f * dim + j, count);
                        float* at = grow + f * dim + j;
                        var acc = Accumulate ? VectorMath.LoadPartial(at, count) + p + p : p + p;
                        VectorMath.StorePartial(acc + twoR, at, count);
                    }
                }
            }
        }
    }

    static void CheckFull(int length, string name, int rows, int fields, int dim)
    {
        if (rows < 0 || fields < 0 || dim < 0 || length < (long)rows * fields * dim)
            throw new ArgumentException($"FactorizationPairs: {name} has {length} values for shape [{rows}, {fields}, {dim}]");
    }

    static void CheckRows(int length, string name, int rows)
    {
        if (length < rows) throw new ArgumentException($"FactorizationPairs: {name} has {length} values for {rows} rows");
    }
}
