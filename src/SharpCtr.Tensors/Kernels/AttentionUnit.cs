using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// DIN's local activation unit for inference, fused. For every (sample, history position) row r
/// the first layer's pre-activation is
///   keyPart[rowKey[r]] + queryPart[rowSample[r]] + (keys[rowKey[r]] ⊙ query[rowSample[r]])·P
/// (the decomposed form Din uses), followed by its activation, the hidden layers and the output
/// unit. Rows are processed in tiles of <see cref="TileRows"/>, so the [rows, hidden]
/// intermediates live in L1/L2 instead of streaming five [rows, 64] tensors through memory:
/// unfused, a 100-candidate request with a 50-item history spent more time moving those
/// tensors and launching ops than multiplying.
/// The small products use a register-blocked 4-row × 64-column micro-kernel (k is small here,
/// where a general GEMM spends its time packing). Hidden widths must be multiples of 16
/// (<see cref="Supports"/>); callers keep the unfused path for anything else and for training.
/// </summary>
[SkipLocalsInit]
public static unsafe class AttentionUnitKernel
{
    public enum Act { Identity, Relu, PRelu, Dice }

    /// <summary>
    /// One dense layer of the unit with its activation, in inference form. Weight is [In, Out]
    /// (as <see cref="Nn.Linear"/> stores it). PRelu uses Alpha; Dice uses Alpha, Mean and
    /// InvStd (the running statistics, 1/sqrt(var + eps)).
    /// </summary>
    public sealed record Layer(float[] Weight, float[]? Bias, int In, int Out, Act Act,
        float[]? Alpha = null, float[]? Mean = null, float[]? InvStd = null);

    public const int TileRows = 32;

    [ThreadStatic] static float[]? scratch;   // the tile buffers, reused by every call on this thread

    /// <summary>Whether the fused kernel handles layers of these widths.</summary>
    public static bool Supports(int firstOut, ReadOnlySpan<Layer> hidden)
    {
        if (firstOut % 16 != 0) return false;
        foreach (var l in hidden) if (l.Out % 16 != 0) return false;
        return true;
    }

    /// <param name="keys">[U, k] history embeddings.</param>
    /// <param name="rowKey">history row of each output row, or null when output row r uses key row r.</param>
    /// <param name="query">[B, k] target embeddings aligned with the keys.</param>
    /// <param name="rowSample">sample of each output row.</param>
    /// <param name="keyPart">[U, H1] keys·B (no bias).</param>
    /// <param name="queryPart">[B, H1] query·A + bias.</param>
    /// <param name="first">the (k ⊙ q) projection P [k, H1] (its bias, if any, is ignored: it lives in queryPart) and the first activation.</param>
    /// <param name="hidden">the remaining hidden layers.</param>
    /// <param name="outWeight">[H_last] weights of the single output unit.</param>
    /// <param name="scores">[n] output.</param>
    public static void Scores(float[] keys, int[]? rowKey, float[] query, int[] rowSample, int k,
        float[] keyPart, float[] queryPart, Layer first, Layer[] hidden, float[] outWeight, float outBias,
        int n, float[] scores)
    {
        int h1 = first.Out;
        if (!Supports(h1, hidden)) throw new ArgumentException($"attention unit widths must be multiples of 16 (first layer {h1})");
        if (first.In != k) throw new ArgumentException($"first layer takes {first.In} inputs, keys are {k} wide");
        long macsPerRow = (long)k * h1;
        int width = h1;
        foreach (var l in hidden) { macsPerRow += (long)width * l.Out; width = l.Out; }
        int tiles = (n + TileRows - 1) / TileRows;
        // Tiles are independent, so two threads split them with bit-identical results.
        int workers = KernelThreads.For(n * macsPerRow, MinParallelMacs);
        fixed (float* pk = keys, pq = query, pkp = keyPart, pqp = queryPart, pp = first.Weight, pw = outWeight, ps = scores)
        fixed (int* prk = rowKey, prs = rowSample)
        {
            var job = new TileJob
            {
                Keys = pk, RowKey = prk, Query = pq, RowSample = prs, K = k, KeyPart = pkp, QueryPart = pqp,
                P = pp, First = first, Hidden = hidden, OutWeight = pw, OutBias = outBias, N = n, Scores = ps,
            };
            KernelThreads.Run(job, tiles, workers);
        }
    }

    /// <summary>Below this many multiply-adds one thread is faster than waking a second (~20 µs of work).</summary>
    const long MinParallelMacs = 2_000_000;

    struct TileJob : IRangeJob
    {
        public float* Keys, Query, KeyPart, QueryPart, P, OutWeight, Scores;
        public int* RowKey, RowSample;
        public int K, N;
        public float OutBias;
        public Layer First;
        public Layer[] Hidden;

        public readonly void Run(int tileStart, int tileEnd)
        {
            int k = K, h1 = First.Out, widest = h1;
            foreach (var l in Hidden) widest = Math.Max(widest, l.Out);
            int need = TileRows * (k + 2 * widest);
            if (scratch is null || scratch.Length < need) scratch = new float[need];
            fixed (float* pscratch = scratch)
            {
                float* px = pscratch, pa = px + TileRows * k, pb = pa + TileRows * widest;
                for (int t = tileStart; t < tileEnd; t++) Tile(t * TileRows, px, pa, pb);
            }
        }

        readonly void Tile(int r0, float* px, float* pa, float* pb)
        {
            int k = K, h1 = First.Out;
            int rows = Math.Min(TileRows, N - r0);
            int padded = (rows + 3) & ~3;
            // x = keys ⊙ query for the tile (rows past the end are zero and never stored).
            for (int i = 0; i < padded; i++)
            {
                float* xi = px + i * k;
                if (i >= rows) { new Span<float>(xi, k).Clear(); continue; }
                int r = r0 + i;
                float* ki = Keys + (long)(RowKey == null ? r : RowKey[r]) * k, qi = Query + (long)RowSample[r] * k;
                for (int j = 0; j < k; j += 16)
                {
                    int c = Math.Min(16, k - j);
                    VectorMath.StorePartial(VectorMath.LoadPartial(ki + j, c) * VectorMath.LoadPartial(qi + j, c), xi + j, c);
                }
            }
            MatMulTile(px, padded, k, P, h1, pa);
            for (int i = 0; i < rows; i++)
            {
                int r = r0 + i;
                float* ai = pa + i * h1, kp = KeyPart + (long)(RowKey == null ? r : RowKey[r]) * h1, qp = QueryPart + (long)RowSample[r] * h1;
                for (int j = 0; j < h1; j += 16)
                    Vector512.Store(Vector512.Load(ai + j) + Vector512.Load(kp + j) + Vector512.Load(qp + j), ai + j);
            }
            Activate(pa, rows, First);
            float* cur = pa, next = pb;
            int width = h1;
            foreach (var layer in Hidden)
            {
                fixed (float* pwl = layer.Weight)
                    MatMulTile(cur, padded, width, pwl, layer.Out, next);
                if (layer.Bias is { } bias)
                    fixed (float* pbias = bias)
                        for (int i = 0; i < rows; i++)
                            for (int j = 0; j < layer.Out; j += 16)
                                Vector512.Store(Vector512.Load(next + i * layer.Out + j) + Vector512.Load(pbias + j), next + i * layer.Out + j);
                Activate(next, rows, layer);
                width = layer.Out;
                float* swap = cur; cur = next; next = swap;
            }
            for (int i = 0; i < rows; i++)
            {
                var acc = Vector512<float>.Zero;
                for (int j = 0; j < width; j += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(cur + i * width + j), Vector512.Load(OutWeight + j), acc);
                Scores[r0 + i] = VectorMath.Sum(acc) + OutBias;
            }
        }
    }

    /// <summary>The activation in place on [rows, layer.Out].</summary>
    static void Activate(float* h, int rows, Layer layer)
    {
        int d = layer.Out;
        switch (layer.Act)
        {
            case Act.Identity: return;
            case Act.Relu:
                for (int i = 0; i < rows * d; i += 16) Vector512.Store(Vector512.Max(Vector512.Load(h + i), Vector512<float>.Zero), h + i);
                return;
            case Act.PRelu:
                fixed (float* pa = layer.Alpha)
                    for (int i = 0; i < rows; i++)
                        for (int j = 0; j < d; j += 16)
                        {
                            var v = Vector512.Load(h + i * d + j);
                            var neg = v * Vector512.Load(pa + j);
                            Vector512.Store(Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero), v, neg), h + i * d + j);
                        }
                return;
            case Act.Dice:
                fixed (float* pa = layer.Alpha, pm = layer.Mean, pinv = layer.InvStd)
                    DiceInPlace(h, rows, d, pa, pm, pinv);
                return;
        }
    }

    /// <summary>
    /// Dice with fixed statistics, in place: x·(α + (1 − α)·σ((x − mean)·invStd)). Column blocks
    /// outside, rows inside, so the per-column constants are folded once per block: −z is one FMA,
    /// the output one FMA and a multiply. The exponent is clamped to ±87 so e^(−z) neither
    /// overflows nor needs the underflow select (σ is then 0 or 1 to float precision anyway).
    /// This pass was ~40 % of the unit; it is throughput-bound on vector instructions, so every
    /// one removed counts (a reciprocal-plus-Newton step instead of the division made it slower).
    /// </summary>
    static void DiceInPlace(float* h, int rows, int d, float* alpha, float* mean, float* invStd)
    {
        var lim = Vector512.Create(87f);
        for (int j = 0; j < d; j += 16)
        {
            var inv = Vector512.Load(invStd + j);
            var negScale = -inv;
            var shift = Vector512.Load(mean + j) * inv;
            var al = Vector512.Load(alpha + j);
            var oneMinusAlpha = VectorMath.One - al;
            for (int i = 0; i < rows; i++)
            {
                float* at = h + i * d + j;
                var v = Vector512.Load(at);
                var negZ = Vector512.Min(Vector512.Max(Vector512.FusedMultiplyAdd(v, negScale, shift), -lim), lim);
                var p = VectorMath.One / (VectorMath.One + VectorMath.ExpInRange(negZ));
                Vector512.Store(v * Vector512.FusedMultiplyAdd(p, oneMinusAlpha, al), at);
            }
        }
    }

    /// <summary>c[rows, n] = a[rows, k]·b[k, n]; rows a multiple of 4, n a multiple of 16.</summary>
    static void MatMulTile(float* a, int rows, int k, float* b, int n, float* c)
    {
        for (int i = 0; i < rows; i += 4)
        {
            float* a0 = a + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
            int j = 0;
            for (; j + 64 <= n; j += 64) Block4x64(a0, a1, a2, a3, k, b + j, n, c + i * n + j);
            for (; j + 32 <= n; j += 32) Block4x32(a0, a1, a2, a3, k, b + j, n, c + i * n + j);
            for (; j < n; j += 16) Block4x16(a0, a1, a2, a3, k, b + j, n, c + i * n + j);
        }
    }

    /// <summary>4 rows × 64 columns: 16 accumulators, 4 loads and 4 broadcasts per 16 FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Block4x64(float* a0, float* a1, float* a2, float* a3, int k, float* b, int ldb, float* c)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        for (int p = 0; p < k; p++)
        {
            float* bp = b + p * ldb;
            var b0 = Vector512.Load(bp); var b1 = Vector512.Load(bp + 16); var b2 = Vector512.Load(bp + 32); var b3 = Vector512.Load(bp + 48);
            var x = Vector512.Create(a0[p]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01); c02 = Vector512.FusedMultiplyAdd(x, b2, c02); c03 = Vector512.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Create(a1[p]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11); c12 = Vector512.FusedMultiplyAdd(x, b2, c12); c13 = Vector512.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Create(a2[p]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21); c22 = Vector512.FusedMultiplyAdd(x, b2, c22); c23 = Vector512.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Create(a3[p]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31); c32 = Vector512.FusedMultiplyAdd(x, b2, c32); c33 = Vector512.FusedMultiplyAdd(x, b3, c33);
        }
        int ldc = ldb;
        Vector512.Store(c00, c); Vector512.Store(c01, c + 16); Vector512.Store(c02, c + 32); Vector512.Store(c03, c + 48);
        c += ldc;
        Vector512.Store(c10, c); Vector512.Store(c11, c + 16); Vector512.Store(c12, c + 32); Vector512.Store(c13, c + 48);
        c += ldc;
        Vector512.Store(c20, c); Vector512.Store(c21, c + 16); Vector512.Store(c22, c + 32); Vector512.Store(c23, c + 48);
        c += ldc;
        Vector512.Store(c30, c); Vector512.Store(c31, c + 16); Vector512.Store(c32, c + 32); Vector512.Store(c33, c + 48);
    }

    /// <summary>4 rows × 32 columns (DIN's second layer): 8 accumulators keep both FMA ports busy, where 4 would wait on latency.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Block4x32(float* a0, float* a1, float* a2, float* a3, int k, float* b, int ldb, float* c)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < k; p++)
        {
            float* bp = b + p * ldb;
            var b0 = Vector512.Load(bp); var b1 = Vector512.Load(bp + 16);
            var x = Vector512.Create(a0[p]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[p]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[p]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[p]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
        }
        Vector512.Store(c00, c); Vector512.Store(c01, c + 16); c += ldb;
        Vector512.Store(c10, c); Vector512.Store(c11, c + 16); c += ldb;
        Vector512.Store(c20, c); Vector512.Store(c21, c + 16); c += ldb;
        Vector512.Store(c30, c); Vector512.Store(c31, c + 16);
    }

    /// <summary>4 rows × 16 columns, for what is left of a width after the 64- and 32-column blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Block4x16(float* a0, float* a1, float* a2, float* a3, int k, float* b, int ldb, float* c)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int p = 0; p < k; p++)
        {
            var bv = Vector512.Load(b + p * ldb);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[p]), bv, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[p]), bv, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[p]), bv, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[p]), bv, c3);
        }
        Vector512.Store(c0, c); Vector512.Store(c1, c + ldb); Vector512.Store(c2, c + 2 * ldb); Vector512.Store(c3, c + 3 * ldb);
    }
}
