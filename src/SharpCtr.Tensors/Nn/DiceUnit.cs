using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors.Nn;

/// <summary>
/// DIN's whole local activation unit in training, as one op over tiles of packed history rows:
/// first layer in <see cref="Ops.ActivationUnitInput"/>'s form → Dice → [Linear → Dice]* → Linear(→ 1).
/// Op by op, every layer is a GEMM over all rows plus passes for the bias, Dice's statistics, Dice
/// itself and their gradients: about a dozen trips over [rows, 64] tensors (~10 MB each for a
/// batch's ~40k rows), which made the step memory-bound. Here each pass walks tiles of a few hundred
/// rows (a tile's inputs, activations and gradients stay in the core's cache) and only each
/// layer's pre-activation h and the gradient entering the lower Dice reach memory. Dice uses batch
/// statistics, so a pass ends where all rows' sums are needed: forward, one pass per layer plus one
/// for its variance; backward, one pass per layer. Activations and gates are recomputed from h.
/// Tiles end on sample boundaries (padding rows past the last sample form the last tiles), so a
/// sample's query gradient has one writer; every sum over rows is taken per tile and the partials
/// added in tile order, so results do not depend on the thread count.
/// </summary>
public static unsafe partial class DiceUnit
{
    /// <summary>Rows a tile aims at (it ends at the first sample boundary past this).</summary>
    const int TileRows = 256;

    /// <summary>Whether <see cref="Scores"/> computes this unit: Dice after every layer, an output width of 1.</summary>
    public static bool Supports(Module? firstAct, Mlp rest)
    {
        if (firstAct is not Dice || rest.Output is not { Out: 1 }) return false;
        for (int i = 0; i < rest.Layers.Length; i++)
            if (rest.Norms[i] is not null || rest.Acts[i] is not Dice || rest.DropoutP > 0) return false;
        return true;
    }

    /// <summary>
    /// Scores [N] of packed rows: h₀[r] = keys[r]·Wk + (keys[r] ⊙ query[s])·Wp + queryProj[s]
    /// (s = rowSample[r]), then Dice and <paramref name="rest"/>'s layers. Dice uses (and updates the
    /// running averages of) batch statistics over all N rows, padding rows included, as the op-by-op graph does.
    /// </summary>
    public static Tensor Scores(Tensor keys, Tensor query, int[] rowSample, int[] offsets,
        Tensor keyWeight, Tensor productWeight, Tensor queryProj, Dice firstAct, Mlp rest)
    {
        if (!Supports(firstAct, rest)) throw new ArgumentException("DiceUnit: every layer needs Dice, no norm or dropout, and one output");
        Ops.CheckUnitInput(keys, query, rowSample, offsets, keyWeight, productWeight, queryProj);
        var u = new Unit(keys, query, rowSample, keyWeight, productWeight, queryProj, firstAct, rest, offsets);
        var scores = Tensor.Temp([u.N]);
        using (var pins = new Pins())
        {
            var job = u.Job(pins);
            for (int l = 0; l < u.Depth; l++)
            {
                u.H[l] = Tensor.Temp([u.N, u.Width[l]]);
                u.Stats[l] = Tensor.Temp([3, u.Width[l]]);
                var partials = Tensor.Temp([u.TileCount, u.Width[l]]);
                job.Pass = l == 0 ? TilePass.InputForward : TilePass.HiddenForward;
                job.Partials = pins.Of(partials);
                u.SetLayer(ref job, pins, l, sums: null);
                if (l > 0) job.Bias = u.Rest.Layers[l - 1].Bias is { } b ? pins.Of(b) : null;
                KernelThreads.Run(job, u.TileCount, u.Workers);
                u.Statistics(job, partials, l);
            }
            job.Pass = TilePass.OutputForward;
            job.Scores = pins.Of(scores);
            u.SetLayer(ref job, pins, u.Depth - 1, sums: null);
            KernelThreads.Run(job, u.TileCount, u.Workers);
        }
        if (Tape.IsRecording)
            Tape.Record(scores, () =>
            {
                if (scores.Grad is not null) u.Backward(scores.Grad);
            });
        return scores;
    }

    /// <summary>One call's unit: its tensors, layer widths, tiles and what forward keeps for backward.</summary>
    sealed class Unit
    {
        public readonly Tensor Keys, Query, KeyWeight, ProductWeight, QueryProj, W0;
        public readonly int[] RowSample, Tiles, Width;
        public readonly Dice[] Dice;
        public readonly Mlp Rest;
        public readonly Tensor[] H, Stats;            // per layer: pre-activation [N, width]; mean | variance | invStd
        public readonly int N, K, Depth, TileCount, RealTiles, MaxTile, MaxWidth, Workers;

        public Unit(Tensor keys, Tensor query, int[] rowSample, Tensor keyWeight, Tensor productWeight, Tensor queryProj, Dice first, Mlp rest, int[] offsets)
        {
            Keys = keys; Query = query; RowSample = rowSample; KeyWeight = keyWeight; ProductWeight = productWeight; QueryProj = queryProj; Rest = rest;
            N = keys.Rows; K = keys.Cols;
            Depth = 1 + rest.Layers.Length;
            Width = new int[Depth];
            Dice = new Dice[Depth];
            Width[0] = keyWeight.Cols; Dice[0] = first;
            for (int l = 1; l < Depth; l++) { Width[l] = rest.Layers[l - 1].Out; Dice[l] = (Dice)rest.Acts[l - 1]!; }
            for (int l = 0; l < Depth; l++)
                if (Dice[l].Dim != Width[l]) throw new ArgumentException($"DiceUnit: layer {l} is {Width[l]} wide but its Dice {Dice[l].Dim}");
            MaxWidth = 2 * K;
            foreach (int w in Width) MaxWidth = Math.Max(MaxWidth, w);
            Tiles = TileBounds(offsets, N, out RealTiles);
            TileCount = Tiles.Length - 1;
            for (int t = 0; t < TileCount; t++) MaxTile = Math.Max(MaxTile, Tiles[t + 1] - Tiles[t]);
            Workers = KernelThreads.ForElements((long)N * (2 * K + Width[0]));
            W0 = Tensor.Temp([2 * K, Width[0]]);      // [Wk; Wp]
            keyWeight.Span.CopyTo(W0.Data);
            productWeight.Span.CopyTo(W0.Data.AsSpan(K * Width[0]));
            H = new Tensor[Depth];
            Stats = new Tensor[Depth];
        }

        /// <summary>A job with the pointers every pass shares.</summary>
        public TileJob Job(Pins pins) => new()
        {
            Keys = pins.Of(Keys), Query = pins.Of(Query), QueryProj = pins.Of(QueryProj), W0 = pins.Of(W0),
            RowSample = pins.Of(RowSample), Tiles = pins.Of(Tiles), N = N, K = K, MaxTile = MaxTile, MaxWidth = MaxWidth,
            OutWeight = pins.Of(Rest.Output!.Weight), OutBias = Rest.Output.Bias is null ? 0f : Rest.Output.Bias.Data[0],
        };

        /// <summary>Points the job at Dice layer l (and, for l > 0, at layer l − 1 below it and the weight between them).</summary>
        public void SetLayer(ref TileJob job, Pins pins, int l, float* sums)
        {
            job.Width = Width[l];
            job.H = pins.Of(H[l]); job.Mean = pins.Of(Stats[l]); job.Alpha = pins.Of(Dice[l].Alpha);
            job.Sums = sums;
            job.Top = l == Depth - 1;
            if (l == 0) return;
            job.WidthBelow = Width[l - 1];
            job.HBelow = pins.Of(H[l - 1]); job.MeanBelow = pins.Of(Stats[l - 1]); job.AlphaBelow = pins.Of(Dice[l - 1].Alpha);
            job.Weight = pins.Of(Rest.Layers[l - 1].Weight);
        }

        /// <summary>Mean from the pass's tile sums, then a pass for the variance; running averages updated.</summary>
        public void Statistics(TileJob job, Tensor partials, int l)
        {
            int d = Width[l];
            var st = Stats[l].Data;
            var mean = st.AsSpan(0, d); var variance = st.AsSpan(d, d); var invStd = st.AsSpan(2 * d, d);
            float invN = 1f / Math.Max(1, N);
            SumTiles(partials.Data, TileCount, mean);
            for (int j = 0; j < d; j++) mean[j] *= invN;
            job.Pass = TilePass.Deviations;
            KernelThreads.Run(job, TileCount, Workers);
            SumTiles(partials.Data, TileCount, variance);
            for (int j = 0; j < d; j++)
            {
                variance[j] *= invN;
                invStd[j] = 1f / MathF.Sqrt(variance[j] + Dice[l].Eps);
            }
            BatchStats.UpdateRunning(Dice[l].RunningMean, Dice[l].RunningVar, mean, variance, N, Dice[l].Momentum);
        }

        public void Backward(Tensor scoreGrad)
        {
            var output = Rest.Output!;
            bool freshKeys = false;
            var gk = Keys.RequiresGrad ? Keys.GradBufferForWrite(out freshKeys) : null;
            var gq = Query.RequiresGrad ? Query.GradBuffer() : null;
            var gqp = QueryProj.RequiresGrad ? QueryProj.GradBuffer() : null;
            using var pins = new Pins();
            var job = Job(pins);
            job.Ds = pins.Of(scoreGrad);

            // The top Dice's sums and the output layer's gradient: dα | Σdn | Σdn·n | dw_out | db_out.
            int top = Depth - 1, dTop = Width[top];
            var sums = new float[4 * dTop + 1];
            var partials = Tensor.Temp([TileCount, sums.Length]);
            job.Pass = TilePass.TopSums;
            job.Partials = pins.Of(partials);
            SetLayer(ref job, pins, top, null);
            KernelThreads.Run(job, TileCount, Workers);
            SumTiles(partials.Data, TileCount, sums);
            AddGrad(Dice[top].Alpha, sums.AsSpan(0, dTop));
            AddGrad(output.Weight, sums.AsSpan(3 * dTop, dTop));
            if (output.Bias is not null) AddGrad(output.Bias, sums.AsSpan(4 * dTop, 1));

            // Layer l's Dice backward, its Linear's gradients, and the gradient entering Dice l − 1 with that Dice's sums.
            Tensor? daAbove = null;
            for (int l = top; l >= 1; l--)
            {
                var lin = Rest.Layers[l - 1];
                int d = Width[l], dBelow = Width[l - 1];
                partials = Tensor.Temp([TileCount, d + 3 * dBelow]);           // db | dα | Σdn | Σdn·n of Dice l − 1
                var weightPartials = Tensor.Temp([TileCount, dBelow * d]);
                var daBelow = Tensor.Temp([N, dBelow]);
                job.Pass = TilePass.HiddenBackward;
                job.Partials = pins.Of(partials); job.WeightPartials = pins.Of(weightPartials);
                job.DaAbove = daAbove is null ? null : pins.Of(daAbove);
                job.DaBelow = pins.Of(daBelow);
                SetLayer(ref job, pins, l, pins.Of(sums));
                KernelThreads.Run(job, TileCount, Workers);
                var next = new float[d + 3 * dBelow];
                SumTiles(partials.Data, TileCount, next);
                if (lin.Bias is not null) AddGrad(lin.Bias, next.AsSpan(0, d));
                AddGrad(Dice[l - 1].Alpha, next.AsSpan(d, dBelow));
                var gw = new float[dBelow * d];
                SumTiles(weightPartials.Data, TileCount, gw);
                AddGrad(lin.Weight, gw);
                sums = next.AsSpan(d).ToArray();
                daAbove = daBelow;
            }

            // The first layer: its Dice's dx, then [Wk; Wp], the keys, the query and queryProj.
            {
                var weightPartials = Tensor.Temp([TileCount, 2 * K * Width[0]]);
                job.Pass = TilePass.InputBackward;
                job.WeightPartials = pins.Of(weightPartials);
                job.DaAbove = daAbove is null ? null : pins.Of(daAbove);
                job.KeysGrad = gk is null ? null : pins.Of(gk); job.OverwriteKeys = freshKeys;
                job.QueryGrad = gq is null ? null : pins.Of(gq);
                job.QueryProjGrad = gqp is null ? null : pins.Of(gqp);
                SetLayer(ref job, pins, 0, pins.Of(sums));
                KernelThreads.Run(job, RealTiles, Workers);
                // Padding rows after every sample's own rows, on this thread: their sample's sums have one writer.
                if (RealTiles < TileCount) job.Run(RealTiles, TileCount);
                var gw = new float[2 * K * Width[0]];
                SumTiles(weightPartials.Data, TileCount, gw);
                int half = K * Width[0];
                AddGrad(KeyWeight, gw.AsSpan(0, half));
                AddGrad(ProductWeight, gw.AsSpan(half, half));
            }
        }
    }

    /// <summary>Tile boundaries: a tile ends at the first sample boundary at least <see cref="TileRows"/> rows on;
    /// rows past the last sample (padding) follow in tiles of their own.</summary>
    internal static int[] TileBounds(int[] offsets, int n, out int realTiles)
    {
        int bsz = offsets.Length - 1, end = offsets[^1];
        var bounds = new int[bsz + 2 + (n - end) / TileRows + 1];
        int count = 0, start = 0;
        bounds[count++] = 0;
        for (int s = 0; s < bsz; s++)
            if (offsets[s + 1] - start >= TileRows) { bounds[count++] = offsets[s + 1]; start = offsets[s + 1]; }
        if (end > start) bounds[count++] = end;
        realTiles = count - 1;
        for (int r = end; r < n; r += TileRows) bounds[count++] = Math.Min(n, r + TileRows);
        return bounds.AsSpan(0, count).ToArray();
    }

    /// <summary>total = Σ over tiles of each tile's row of partials, in tile order.</summary>
    static void SumTiles(float[] partials, int tileCount, Span<float> total)
    {
        int w = total.Length;
        total.Clear();
        for (int t = 0; t < tileCount; t++)
            System.Numerics.Tensors.TensorPrimitives.Add(total, partials.AsSpan(t * w, w), total);
    }

    static void AddGrad(Tensor p, ReadOnlySpan<float> g)
    {
        if (!p.RequiresGrad) return;
        var dst = p.GradBuffer().Span;
        System.Numerics.Tensors.TensorPrimitives.Add(dst, g, dst);
    }

    /// <summary>Arrays pinned for one forward or backward call (the jobs hold raw pointers across threads).</summary>
    sealed class Pins : IDisposable
    {
        readonly List<System.Runtime.InteropServices.GCHandle> handles = new(24);

        public float* Of(Tensor t) => (float*)Pin(t.Data);
        public float* Of(float[] a) => (float*)Pin(a);
        public int* Of(int[] a) => (int*)Pin(a);

        void* Pin(Array a)
        {
            var handle = System.Runtime.InteropServices.GCHandle.Alloc(a, System.Runtime.InteropServices.GCHandleType.Pinned);
            handles.Add(handle);
            return (void*)handle.AddrOfPinnedObject();
        }

        public void Dispose()
        {
            foreach (var h in handles) h.Free();
            handles.Clear();
        }
    }
}
