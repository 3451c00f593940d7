using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors.Nn;

/// <summary>The tile passes of <see cref="DiceUnit"/>: each runs over a range of tiles with its own scratch.</summary>
public static unsafe partial class DiceUnit
{
    enum TilePass { InputForward, HiddenForward, Deviations, OutputForward, TopSums, HiddenBackward, InputBackward }

    /// <summary>
    /// One pass over tiles. Per-tile sums go to the tile's row of <see cref="Partials"/> (and weight
    /// gradients to its block of <see cref="WeightPartials"/>); the caller adds them in tile order.
    /// Rows of the Dice layer in hand: x = H[r], n = (x − mean)·invStd, p = sigmoid(n), a = x·(α + p·(1 − α)).
    /// </summary>
    struct TileJob : IRangeJob
    {
        public TilePass Pass;
        public float* Keys, Query, QueryProj, W0, OutWeight, Scores, Ds;
        public int* RowSample, Tiles;
        public int N, K, MaxTile, MaxWidth;
        public float OutBias;
        // The Dice layer of this pass: pre-activation [N, Width], mean | variance | invStd, α; in backward its sums dα | Σdn | Σdn·n.
        public float* H, Mean, Alpha, Sums;
        public int Width;
        public bool Top;                 // the last Dice layer: the gradient entering it is ds ⊗ w_out
        // The layer below, and the weight [WidthBelow, Width] and bias from it into this one.
        public float* HBelow, MeanBelow, AlphaBelow, Weight, Bias;
        public int WidthBelow;
        public float* Partials, WeightPartials, DaAbove, DaBelow, KeysGrad, QueryGrad, QueryProjGrad;
        public bool OverwriteKeys;

        public readonly void Run(int tileStart, int tileEnd)
        {
            int size = MaxTile * MaxWidth;
            var rented = ArrayPool<float>.Shared.Rent(3 * size);
            fixed (float* scratch = rented)
                for (int t = tileStart; t < tileEnd; t++)
                {
                    int r0 = Tiles[t], r1 = Tiles[t + 1];
                    switch (Pass)
                    {
                        case TilePass.InputForward: InputForward(t, r0, r1, scratch); break;
                        case TilePass.HiddenForward: HiddenForward(t, r0, r1, scratch); break;
                        case TilePass.Deviations: ColumnSums(H + (long)r0 * Width, r1 - r0, Width, Mean, Partials + (long)t * Width); break;
                        case TilePass.OutputForward: OutputForward(r0, r1); break;
                        case TilePass.TopSums: TopSums(t, r0, r1); break;
                        case TilePass.HiddenBackward: HiddenBackward(t, r0, r1, scratch, scratch + size, scratch + 2 * size); break;
                        case TilePass.InputBackward: InputBackward(t, r0, r1, scratch, scratch + size, scratch + 2 * size); break;
                    }
                }
            ArrayPool<float>.Shared.Return(rented);
        }

        /// <summary>x = [keys | keys ⊙ q] into scratch, H rows = queryProj[s] + x·[Wk; Wp], and the tile's column sums.</summary>
        readonly void InputForward(int t, int r0, int r1, float* x)
        {
            int k2 = 2 * K;
            for (int r = r0; r < r1; r++)
            {
                int s = RowSample[r];
                InputRow(r, s, x + (long)(r - r0) * k2);
                new ReadOnlySpan<float>(QueryProj + (long)s * Width, Width).CopyTo(new Span<float>(H + (long)r * Width, Width));
            }
            Gemm.SingleThreaded(false, false, r1 - r0, Width, k2, 1f, x, k2, W0, Width, 1f, H + (long)r0 * Width, Width);
            ColumnSums(H + (long)r0 * Width, r1 - r0, Width, null, Partials + (long)t * Width);
        }

        readonly void InputRow(int r, int s, float* xr)
        {
            float* kr = Keys + (long)r * K, q = Query + (long)s * K;
            for (int j = 0; j < K; j += 16)
            {
                int c = Math.Min(16, K - j);
                var kv = VectorMath.LoadPartial(kr + j, c);
                VectorMath.StorePartial(kv, xr + j, c);
                VectorMath.StorePartial(kv * VectorMath.LoadPartial(q + j, c), xr + K + j, c);
            }
        }

        /// <summary>The layer below activated into scratch, H rows = bias + a·W, and the tile's column sums.</summary>
        readonly void HiddenForward(int t, int r0, int r1, float* a)
        {
            int m = r1 - r0;
            ActivateBelow(r0, r1, a, null);
            if (Bias != null)
                for (int r = r0; r < r1; r++) new ReadOnlySpan<float>(Bias, Width).CopyTo(new Span<float>(H + (long)r * Width, Width));
            Gemm.SingleThreaded(false, false, m, Width, WidthBelow, 1f, a, WidthBelow, Weight, Width, Bias != null ? 1f : 0f, H + (long)r0 * Width, Width);
            ColumnSums(H + (long)r0 * Width, m, Width, null, Partials + (long)t * Width);
        }

        /// <summary>a = Dice(H_below) for the tile's rows, [rows, WidthBelow], and their gates when <paramref name="gates"/> is given.</summary>
        readonly void ActivateBelow(int r0, int r1, float* a, float* gates)
        {
            int d = WidthBelow;
            for (int r = r0; r < r1; r++)
            {
                float* hr = HBelow + (long)r * d, ar = a + (long)(r - r0) * d;
                for (int j = 0; j < d; j += 16)
                {
                    int c = Math.Min(16, d - j);
                    var x = VectorMath.LoadPartial(hr + j, c);
                    var (_, p) = Gate(x, MeanBelow, MeanBelow + 2 * d, j, c);
                    VectorMath.StorePartial(Activate(x, p, VectorMath.LoadPartial(AlphaBelow + j, c)), ar + j, c);
                    if (gates != null) VectorMath.StorePartial(p, gates + (ar - a) + j, c);
                }
            }
        }

        /// <summary>scores[r] = Dice(H[r])·w_out + b_out.</summary>
        readonly void OutputForward(int r0, int r1)
        {
            int d = Width;
            for (int r = r0; r < r1; r++)
            {
                float* hr = H + (long)r * d;
                var acc = Vector512<float>.Zero;
                for (int j = 0; j < d; j += 16)
                {
                    int c = Math.Min(16, d - j);
                    var x = VectorMath.LoadPartial(hr + j, c);
                    var (_, p) = Gate(x, Mean, Mean + 2 * d, j, c);
                    acc += Activate(x, p, VectorMath.LoadPartial(Alpha + j, c)) * VectorMath.LoadPartial(OutWeight + j, c);
                }
                Scores[r] = VectorMath.Sum(acc) + OutBias;
            }
        }

        /// <summary>The top Dice's sums (dα | Σdn | Σdn·n) and the output layer's gradient (dw_out | db_out) over the tile.</summary>
        readonly void TopSums(int t, int r0, int r1)
        {
            int d = Width;
            float* acc = Partials + (long)t * (4 * d + 1), dw = acc + 3 * d;
            new Span<float>(acc, 4 * d + 1).Clear();
            for (int r = r0; r < r1; r++)
            {
                float* hr = H + (long)r * d;
                float g0 = Ds[r];
                var gv = Vector512.Create(g0);
                acc[4 * d] += g0;
                for (int j = 0; j < d; j += 16)
                {
                    int c = Math.Min(16, d - j);
                    var x = VectorMath.LoadPartial(hr + j, c);
                    var (nrm, p) = Gate(x, Mean, Mean + 2 * d, j, c);
                    var alpha = VectorMath.LoadPartial(Alpha + j, c);
                    AddTo(dw + j, gv * Activate(x, p, alpha), c);
                    AddSums(acc, d, j, c, gv * VectorMath.LoadPartial(OutWeight + j, c), x, nrm, p, alpha);
                }
            }
        }

        /// <summary>
        /// dh = Dice's dx for this layer (into scratch) with the bias gradient; dW block = a_belowᵀ·dh;
        /// da_below = dh·Wᵀ (stored) and the lower Dice's sums over it.
        /// </summary>
        readonly void HiddenBackward(int t, int r0, int r1, float* dh, float* a, float* gates)
        {
            int m = r1 - r0, d = Width, db = WidthBelow;
            float* acc = Partials + (long)t * (d + 3 * db);
            new Span<float>(acc, d + 3 * db).Clear();
            DiceGradient(r0, r1, dh, acc);
            ActivateBelow(r0, r1, a, gates);
            Gemm.SingleThreaded(true, false, db, d, m, 1f, a, db, dh, d, 0f, WeightPartials + (long)t * db * d, d);
            float* daBelow = DaBelow + (long)r0 * db;
            Gemm.SingleThreaded(false, true, m, db, d, 1f, dh, d, Weight, d, 0f, daBelow, db);
            for (int r = r0; r < r1; r++)
            {
                long o = (long)(r - r0) * db;
                float* hr = HBelow + (long)r * db;
                for (int j = 0; j < db; j += 16)
                {
                    int c = Math.Min(16, db - j);
                    var x = VectorMath.LoadPartial(hr + j, c);
                    var nrm = (x - VectorMath.LoadPartial(MeanBelow + j, c)) * VectorMath.LoadPartial(MeanBelow + 2 * db + j, c);
                    AddSums(acc + d, db, j, c, VectorMath.LoadPartial(daBelow + o + j, c), x, nrm, VectorMath.LoadPartial(gates + o + j, c),
                        VectorMath.LoadPartial(AlphaBelow + j, c));
                }
            }
        }

        /// <summary>The first layer: dh (scratch), the [Wk; Wp] block xᵀ·dh, dx = dh·[Wk; Wp]ᵀ, then per row the key, query and queryProj gradients.</summary>
        readonly void InputBackward(int t, int r0, int r1, float* dh, float* x, float* dx)
        {
            int m = r1 - r0, d = Width, k2 = 2 * K;
            DiceGradient(r0, r1, dh, null);
            for (int r = r0; r < r1; r++) InputRow(r, RowSample[r], x + (long)(r - r0) * k2);
            Gemm.SingleThreaded(true, false, k2, d, m, 1f, x, k2, dh, d, 0f, WeightPartials + (long)t * k2 * d, d);
            Gemm.SingleThreaded(false, true, m, k2, d, 1f, dh, d, W0, d, 0f, dx, k2);
            // The op-by-op first layer's per-row step, pointed at this tile's rows of dx and dh.
            var rows = new Ops.InputGradJob
            {
                Keys = Keys, Query = Query, Gy = dh - (long)r0 * d, Gx = dx - (long)r0 * k2,
                KeysGrad = KeysGrad, QueryGrad = QueryGrad, QueryProjGrad = QueryProjGrad, K = K, H = d, OverwriteKeys = OverwriteKeys,
            };
            for (int r = r0; r < r1; r++) rows.Row(r, RowSample[r]);
        }

        /// <summary>
        /// dh[r] = dy·(α + p·(1 − α)) + invStd·(dn − mean(dn) − n·mean(dn·n)), dy the gradient entering this
        /// Dice (ds[r]·w_out at the top, else the stored one); the bias gradient (Σ dh) into biasGrad when given.
        /// </summary>
        readonly void DiceGradient(int r0, int r1, float* dh, float* biasGrad)
        {
            int d = Width;
            var invN = Vector512.Create(1f / Math.Max(1, N));
            for (int r = r0; r < r1; r++)
            {
                float* hr = H + (long)r * d, dhr = dh + (long)(r - r0) * d;
                var top = Vector512.Create(Top ? Ds[r] : 0f);
                for (int j = 0; j < d; j += 16)
                {
                    int c = Math.Min(16, d - j);
                    var x = VectorMath.LoadPartial(hr + j, c);
                    var (nrm, p) = Gate(x, Mean, Mean + 2 * d, j, c);
                    var alpha = VectorMath.LoadPartial(Alpha + j, c);
                    var g = Top ? top * VectorMath.LoadPartial(OutWeight + j, c) : VectorMath.LoadPartial(DaAbove + (long)r * d + j, c);
                    var one = VectorMath.One;
                    var dn = g * x * (one - alpha) * p * (one - p);
                    var mixed = dn - VectorMath.LoadPartial(Sums + d + j, c) * invN - nrm * VectorMath.LoadPartial(Sums + 2 * d + j, c) * invN;
                    var v = g * (alpha + p * (one - alpha)) + mixed * VectorMath.LoadPartial(Mean + 2 * d + j, c);
                    VectorMath.StorePartial(v, dhr + j, c);
                    if (biasGrad != null) AddTo(biasGrad + j, v, c);
                }
            }
        }
    }

    /// <summary>n = (x − mean)·invStd and the gate p = sigmoid(n), at columns j..j+c. The passes recompute the gate
    /// several times, so 1/(1 + e^−n) takes the reciprocal estimate and a Newton step instead of vdivps (~16 cycles
    /// per vector on these cores): within ~1e-7 of the op-by-op Dice.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector512<float> N, Vector512<float> P) Gate(Vector512<float> x, float* mean, float* invStd, int j, int c)
    {
        var nrm = (x - VectorMath.LoadPartial(mean + j, c)) * VectorMath.LoadPartial(invStd + j, c);
        return (nrm, VectorMath.Reciprocal(VectorMath.One + VectorMath.Exp(-nrm)));
    }

    /// <summary>Dice's output x·(α + p·(1 − α)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Activate(Vector512<float> x, Vector512<float> p, Vector512<float> alpha) => x * (alpha + p * (VectorMath.One - alpha));

    /// <summary>Dice's backward sums at columns j..j+c given dy: dα += dy·x·(1 − p); Σdn += dn; Σdn·n += dn·n with dn = dy·x·(1 − α)·p·(1 − p).
    /// <paramref name="acc"/> holds dα | Σdn | Σdn·n, each <paramref name="d"/> wide.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddSums(float* acc, int d, int j, int c, Vector512<float> g, Vector512<float> x, Vector512<float> nrm, Vector512<float> p, Vector512<float> alpha)
    {
        var one = VectorMath.One;
        var gx = g * x;
        var dn = gx * (one - alpha) * p * (one - p);
        AddTo(acc + j, gx * (one - p), c);
        AddTo(acc + d + j, dn, c);
        AddTo(acc + 2 * d + j, dn * nrm, c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddTo(float* dst, Vector512<float> v, int c) => VectorMath.StorePartial(VectorMath.LoadPartial(dst, c) + v, dst, c);

    /// <summary>acc = Σ over m rows of x (mean null) or of (x − mean)², per column.</summary>
    static void ColumnSums(float* rows, int m, int d, float* mean, float* acc)
    {
        new Span<float>(acc, d).Clear();
        for (int i = 0; i < m; i++)
        {
            float* row = rows + (long)i * d;
            for (int j = 0; j < d; j += 16)
            {
                int c = Math.Min(16, d - j);
                var v = VectorMath.LoadPartial(row + j, c);
                if (mean != null) { v -= VectorMath.LoadPartial(mean + j, c); v *= v; }
                AddTo(acc + j, v, c);
            }
        }
    }
}
