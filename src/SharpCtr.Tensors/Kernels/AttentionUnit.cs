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
    public const int TileRows = 32;

    [ThreadStatic] static float[]? scratch;   // the tile buffers, reused by every call on this thread

    /// <summary>Whether the fused kernel handles layers of these widths.</summary>
    public static bool Supports(int firstOut, ReadOnlySpan<InferenceLayer> hidden)
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
        float[] keyPart, float[] queryPart, InferenceLayer first, InferenceLayer[] hidden, float[] outWeight, float outBias,
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
        int workers = KernelThreads.For(n * macsPerRow, KernelThreads.MinParallelMacs);
        fixed (float* pk = keys, pq = query, pkp = keyPart, pqp = queryPart, pw = outWeight, ps = scores)
        fixed (int* prk = rowKey, prs = rowSample)
        {
            var job = new TileJob
            {
                Keys = pk, RowKey = prk, Query = pq, RowSample = prs, K = k, KeyPart = pkp, QueryPart = pqp,
                First = first, Hidden = hidden, OutWeight = pw, OutBias = outBias, N = n, Scores = ps,
            };
            KernelThreads.Run(job, tiles, workers);
        }
    }


    struct TileJob : IRangeJob
    {
        public float* Keys, Query, KeyPart, QueryPart, OutWeight, Scores;
        public int* RowKey, RowSample;
        public int K, N;
        public float OutBias;
        public InferenceLayer First;
        public InferenceLayer[] Hidden;

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
            First.Multiply(px, padded, pa);
            for (int i = 0; i < rows; i++)
            {
                int r = r0 + i;
                float* ai = pa + i * h1, kp = KeyPart + (long)(RowKey == null ? r : RowKey[r]) * h1, qp = QueryPart + (long)RowSample[r] * h1;
                for (int j = 0; j < h1; j += 16)
                    Vector512.Store(Vector512.Load(ai + j) + Vector512.Load(kp + j) + Vector512.Load(qp + j), ai + j);
            }
            First.ActivateInPlace(pa, rows);
            float* cur = pa, next = pb;
            int width = h1;
            foreach (var layer in Hidden)
            {
                layer.Forward(cur, padded, rows, next);
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
}
