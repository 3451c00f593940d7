using System.Runtime.Intrinsics;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// The numbers `sharpctr bench kernels` prints: a list of named measurements, each one line.
/// A measurement sees the results measured before it (so "best of" entries are one line too);
/// a null result means "not available here" (e.g. no OpenBLAS) or not implemented yet.
/// </summary>
public static class EngineBenchmark
{
    public sealed record Measurement(string Key, string Unit, string Description, Func<IReadOnlyDictionary<string, double?>, double?> Measure);

    public static IReadOnlyList<Measurement> All() =>
    [
        new("gemm_1024x256x256_gflops_blas", "GFLOP/s", "GEMM 1024×256·256×256, OpenBLAS", _ => GemmGflops(false, 1024, 256, 256)),
        new("gemm_1024x256x256_gflops_managed", "GFLOP/s", "GEMM 1024×256·256×256, managed kernel", _ => GemmGflops(true, 1024, 256, 256)),
        new("gemm_1024x256x256_gflops", "GFLOP/s", "GEMM 1024×256·256×256, best backend", r => Best(r, "gemm_1024x256x256_gflops")),
        new("gemm_1024x320x256_gflops_blas", "GFLOP/s", "GEMM 1024×320·320×256 (16·20 fields), OpenBLAS", _ => GemmGflops(false, 1024, 320, 256)),
        new("gemm_1024x320x256_gflops_managed", "GFLOP/s", "GEMM 1024×320·320×256, managed kernel", _ => GemmGflops(true, 1024, 320, 256)),
        new("gemm_1024x320x256_gflops", "GFLOP/s", "GEMM 1024×320·320×256, best backend", r => Best(r, "gemm_1024x320x256_gflops")),
        new("gemm_256x64x32_gflops_blas", "GFLOP/s", "GEMM 256×64·64×32 (a tile of DIN's training unit, one thread), OpenBLAS", _ => GemmGflops(false, 256, 64, 32)),
        new("gemm_256x64x32_gflops_managed", "GFLOP/s", "GEMM 256×64·64×32, managed kernel", _ => GemmGflops(true, 256, 64, 32)),
        new("gemm_81920x32x32_gflops_blas", "GFLOP/s", "GEMM 81920×32·32×32 (GenCI-small's projections over 1024 histories × 80 tokens), OpenBLAS", _ => SkinnyGflops(true, false)),
        new("gemm_81920x32x32_gflops", "GFLOP/s", "same as dispatched (SkinnyGemm)", _ => SkinnyGflops(false, false)),
        new("gemm_tn_32x32x81920_gflops_blas", "GFLOP/s", "GEMM 32×81920·81920×32 (that projection's weight gradient), OpenBLAS", _ => SkinnyGflops(true, true)),
        new("gemm_tn_32x32x81920_gflops", "GFLOP/s", "same as dispatched (SkinnyGemm)", _ => SkinnyGflops(false, true)),
        new("din_tile_products_blas_us", "µs", "the six products of one DIN training tile (256 rows, input 64, Dice [64, 32]: two forward, four backward), OpenBLAS on one thread", _ => DinTileProductsUs(blas: true)),
        new("din_tile_products_skinny_us", "µs", "same through SkinnyGemm on one thread", _ => DinTileProductsUs(blas: false)),
        new("gemm_batched_1024x50x16x50_gflops_blas", "GFLOP/s", "batched 1024 × (50×16)·(16×50), OpenBLAS per item", _ => BatchedGflops(false)),
        new("gemm_batched_1024x50x16x50_gflops_managed", "GFLOP/s", "batched 1024 × (50×16)·(16×50), managed", _ => BatchedGflops(true)),
        new("gemm_batched_1024x50x16x50_gflops", "GFLOP/s", "batched 1024 × (50×16)·(16×50), as dispatched", _ => BatchedGflops(null)),
        new("attention_probs_fused_1024x50x50x16_us", "µs", "softmax(Q·Kᵀ/4) for 1024 items, fused per item", _ => AttentionUs(fused: true)),
        new("attention_probs_unfused_1024x50x50x16_us", "µs", "same as batched GEMM then Softmax.Forward", _ => AttentionUs(fused: false)),
        new("din_unit_fused_us", "µs", "DIN activation unit, fused: 100 candidates × 50 history, k 32, [64, 32] Dice, 1 thread", _ => DinUnitUs(1)),
        new("din_unit_fused_2t_us", "µs", "same on 2 threads (tiles split between the cores)", _ => DinUnitUs(2)),
        new("din_unit_fused_gflops", "GFLOP/s", "same, as GFLOP/s of its products (41 MFLOP)", r => r.TryGetValue("din_unit_fused_us", out var us) && us is > 0 ? DinUnitFlops / us.Value / 1e3 : null),
        new("din_unit_fused_packed_us", "µs", "same on 1 thread, weights packed as a frozen bundle's are", _ => DinUnitUs(1, packed: true)),
        new("mlp_100x208_256x3_us", "µs", "request MLP: 100 rows, input 208, [256, 256, 256] ReLU + 1 output, 1 thread, weights unpacked", _ => SmallMlpUs(packed: false)),
        new("mlp_100x208_256x3_packed_us", "µs", "same with packed weights (frozen model; same scores)", _ => SmallMlpUs(packed: true)),
        new("relu_layer_100x256_dense_us", "µs", "one 256×256 layer of a request MLP (100 rows) on a ReLU output where 42 % of the positions are 0 across each 4-row block (a trained DeepFM's share), dense product, packed weights, 1 thread", _ => ReluLayerUs(skip: false)),
        new("relu_layer_100x256_skip_us", "µs", "same, skipping the all-zero positions (what a frozen ReLU MLP does; same values)", _ => ReluLayerUs(skip: true)),
        new("t5_encoder_80x32_ops_us", "µs", "GenCI-small's history encoder (80 tokens, d 32, 2 heads × 16, d_ff 64, 2 layers), op graph, inference mode, 1 thread", _ => T5EncoderUs(fused: false)),
        new("t5_encoder_80x32_fused_us", "µs", "same through T5FusedInference on frozen (packed) weights", _ => T5EncoderUs(fused: true)),
        new("t5_decode_3x2_ops_us", "µs", "3 greedy decoding steps, 2 layers, against 80 memory tokens (GenCI-small's generation), op graph with the cache, 1 thread", _ => T5DecodeUs(fused: false)),
        new("t5_decode_3x2_fused_us", "µs", "same through T5FusedInference.Decoding on frozen weights", _ => T5DecodeUs(fused: true)),
        new("gemm_1024x1024x1024_gflops", "GFLOP/s", "GEMM 1024³, best backend (peak-ish GEMM)", _ => Math.Max(GemmGflops(false, 1024, 1024, 1024, 0.1) ?? 0, GemmGflops(true, 1024, 1024, 1024, 0.1) ?? 0)),
        new("fma_peak_gflops", "GFLOP/s", "register-only FMA loop on all kernel threads (machine peak)", _ => FmaPeakGflops()),
        new("copy_4m_gbps", "GB/s", "memcpy of 4M floats, one thread (memory bandwidth reference)", _ => CopyGbps()),
        new("add_1m_gbps", "GB/s", "y = a + b, 1M floats (12 MB moved)", _ => AddGbps()),
        new("relu_1m_gbps", "GB/s", "y = relu(x), 1M floats (8 MB moved)", _ => ActivationGbps(Activation.Relu)),
        new("sigmoid_1m_gbps", "GB/s", "y = sigmoid(x), 1M floats (8 MB moved)", _ => ActivationGbps(Activation.Sigmoid)),
        new("dice_1024x200_fwd_bwd_us", "µs", "Dice layer in training (batch statistics), 1024 rows × 200 features (a Dice MLP layer at batch 1024), forward+backward on the kernel threads", _ => DiceUs()),
        new("bias_gelu_1024x256_gbps", "GB/s", "y = gelu_erf(x + b), 1024×256", _ => BiasGeluGbps()),
        new("tiny_op_fwd_us", "µs", "1024×16 add forward with recording on (tape scope included)", _ => TinyOpUs(1024, backward: false)),
        new("tiny_op_fwd_bwd_us", "µs", "1024×16 add forward+backward (tape scope included)", _ => TinyOpUs(1024, backward: true)),
        new("tiny_op_fwd_bwd_alloc_bytes", "B", "managed bytes allocated per 1024×16 add forward+backward (tape scope included)", _ => TinyOpAllocatedBytes()),
        new("tiny_op_floor_fwd_bwd_us", "µs", "the same memory passes on raw arrays (y=a+b, ga+=gy, gb+=gy: 576 KB moved), no engine", _ => TinyOpFloorUs()),
        new("tiny_op_16_fwd_us", "µs", "1×16 add forward: the per-op cost of the engine itself", _ => TinyOpUs(1, backward: false)),
        new("tiny_op_16_fwd_bwd_us", "µs", "1×16 add forward+backward: per-op cost with recording and backward", _ => TinyOpUs(1, backward: true)),
        new("fm_pairs_1024x9x16_graph_fwd_bwd_us", "µs", "DeepFM's pairwise FM term on MovieLens-1M (1024 rows, 9 fields × 16) as the six ops it was before session 23, forward+backward, recording on", _ => FmPairsUs(fused: false)),
        new("fm_pairs_1024x9x16_fwd_bwd_us", "µs", "same as the fused op Ops.FactorizationPairs (same bits)", _ => FmPairsUs(fused: true)),
        new("bias_relu_1024x256_us", "µs", "y = relu(z + b) over 1024×256 (BiasActivation.Forward, the plain ReLU pass)", _ => BiasReluUs(findLive: false)),
        new("bias_relu_live_1024x256_us", "µs", "same, also finding the columns with a nonzero value (ZeroColumns.BiasRelu, the pass Ops.LinearRelu runs)", _ => BiasReluUs(findLive: true)),
        new("relu_layers_1024x256x256_plain_fwd_bwd_us", "µs", "two ReLU layers 256→256→256 over 1024 rows, 30 % of each layer's units off for the whole batch (DeepFM's second and third layers on MovieLens-1M), forward+backward with the plain products", _ => ReluLayersUs(skip: false)),
        new("relu_layers_1024x256x256_skip_fwd_bwd_us", "µs", "same as Ops.LinearRelu leaving the zero columns out of the products (same bits where the GEMM sums in k order)", _ => ReluLayersUs(skip: true)),
        new("one_float_row_update_masked_ns", "ns", "slot += g for one-float rows (a width-1 table's gradient), 51,200 updates into 8 slots (ids repeat back to back), each a one-lane masked load and store (how rows of ≤ 16 floats are moved)", _ => OneFloatUpdateNs(masked: true)),
        new("one_float_row_update_scalar_ns", "ns", "same as scalar loads and stores (the width-1 path since session 23)", _ => OneFloatUpdateNs(masked: false)),
        new("embedding_fwd_bwd_us", "µs", "embedding 1024×50 ids into 4000×16, forward+backward (sparse row gradient)", _ => EmbeddingOpUs()),
        new("embedding_bag_fwd_bwd_us", "µs", "mean-pooled bags: 1024 histories of 0–50 ids (random lengths) into 3700×16, forward+backward (sparse row gradient; DeepFM's history field)", _ => EmbeddingBagOpUs()),
        new("embedding_bag_width1_fwd_bwd_us", "µs", "DeepFM's first-order history field: 1024 full bags of 50 skewed ids (popular ids repeat) into a 3700×1 table, mean-pooled, forward+backward (sparse row gradient)", _ => EmbeddingBagWidth1Us()),
        new("embedding_floor_fwd_bwd_us", "µs", "the bytes embedding_fwd_bwd_us must move (write 3.2 MB output, read 3.2 MB gradient) as plain passes on the kernel threads, no indexing", _ => EmbeddingFloorUs()),
        new("embedding_gather_us", "µs", "embedding_fwd_bwd_us's forward kernel alone: 1024×50 rows gathered from 4000×16 on the kernel threads", _ => EmbeddingPhaseUs(backward: false)),
        new("embedding_scatter_us", "µs", "its backward kernel alone: the 3.2 MB gradient summed into the touched rows (SparseRowGrad.ScatterAdd), then cleared", _ => EmbeddingPhaseUs(backward: true)),
        new("adam_140k_us", "µs", "Adam optimizer step on 140k parameters (dense)", _ => AdamOptimizerUs()),
        new("adam_140k_kernel_us", "µs", "Adam.Step kernel alone on 140k floats", _ => AdamKernelUs()),
        new("embedding_kernel_fwd_bwd_us", "µs", "Gather + ScatterAddRows + clear, 1024×50 ids into 4000×16 (kernels only)", _ => EmbeddingKernelUs()),
    ];

    private static double? Best(IReadOnlyDictionary<string, double?> r, string prefix)
    {
        double? best = null;
        foreach (var suffix in new[] { "_blas", "_managed" })
            if (r.TryGetValue(prefix + suffix, out var v) && v is double d && (best == null || d > best)) best = d;
        return best;
    }

    private static double? GemmGflops(bool managed, int m, int k, int n, double minSample = 0.03)
    {
        if (!managed && !Gemm.BlasAvailable) return null;
        var rng = new Random(1);
        var a = RandomArray(rng, m * k);
        var b = RandomArray(rng, k * n);
        var c = new float[m * n];
        bool saved = Gemm.ForceManaged;
        Gemm.ForceManaged = managed;
        try
        {
            double s = BenchTimer.MedianSecondsPerCall(() => Gemm.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n), minSample);
            return 2.0 * m * n * k / s / 1e9;
        }
        finally { Gemm.ForceManaged = saved; }
    }

    /// <summary>A transformer projection over 81920 tokens at width 32 (transA: its weight gradient, summed over the tokens),
    /// by OpenBLAS on the kernel threads or as the engine dispatches it.</summary>
    private static unsafe double? SkinnyGflops(bool blas, bool transA)
    {
        if (blas && !Gemm.BlasAvailable) return null;
        const int rows = 81920, width = 32;
        int m = transA ? width : rows, k = transA ? rows : width, n = width;
        var rng = new Random(4);
        var a = RandomArray(rng, rows * width);
        var b = RandomArray(rng, (transA ? rows : width) * width);
        var c = new float[m * n];
        int lda = transA ? m : k;
        double s;
        fixed (float* pa = a, pb = b, pc = c)
        {
            float* xa = pa, xb = pb, xc = pc;
            s = blas
                ? BenchTimer.MedianSecondsPerCall(() => OpenBlas.Sgemm(transA, false, m, n, k, 1f, xa, lda, xb, n, 0f, xc, n, KernelThreads.Max), 0.03)
                : BenchTimer.MedianSecondsPerCall(() => Gemm.Sgemm(transA, false, m, n, k, 1f, a, lda, b, n, 0f, c, n), 0.03);
        }
        return 2.0 * m * n * k / s / 1e9;
    }

    /// <summary>The products <see cref="Nn.DiceUnit"/>'s training tiles make, at DIN's sizes.</summary>
    private static unsafe double? DinTileProductsUs(bool blas)
    {
        if (blas && !Gemm.BlasAvailable) return null;
        const int m = 256, k2 = 64, w0 = 64, w1 = 32;
        var rng = new Random(9);
        var x = RandomArray(rng, m * k2);
        var wIn = RandomArray(rng, k2 * w0);
        var h0 = RandomArray(rng, m * w0);
        var wHid = RandomArray(rng, w0 * w1);
        var h1 = RandomArray(rng, m * w1);
        var gW0 = new float[k2 * w0];
        var gW1 = new float[w0 * w1];
        var dx = new float[m * k2];
        var da = new float[m * w0];
        fixed (float* px = x, pwIn = wIn, ph0 = h0, pwHid = wHid, ph1 = h1, pgW0 = gW0, pgW1 = gW1, pdx = dx, pda = da)
        {
            float* xx = px, xwIn = pwIn, xh0 = ph0, xwHid = pwHid, xh1 = ph1, xgW0 = pgW0, xgW1 = pgW1, xdx = pdx, xda = pda;
            void Product(bool transA, bool transB, int mm, int n, int k, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
            {
                if (blas) OpenBlas.Sgemm(transA, transB, mm, n, k, 1f, a, lda, b, ldb, beta, c, ldc, 1);
                else SkinnyGemm.Run(transA, transB, mm, n, k, 1f, a, lda, b, ldb, beta, c, ldc, 1);
            }
            return BenchTimer.MedianSecondsPerCall(() =>
            {
                Product(false, false, m, w0, k2, xx, k2, xwIn, w0, 1f, xh0, w0);        // H0 += x·W0
                Product(false, false, m, w1, w0, xh0, w0, xwHid, w1, 1f, xh1, w1);      // H1 += a·W1
                Product(true, false, w0, w1, m, xh0, w0, xh1, w1, 0f, xgW1, w1);        // dW1 = aᵀ·dh
                Product(false, true, m, w0, w1, xh1, w1, xwHid, w1, 0f, xda, w0);       // da = dh·W1ᵀ
                Product(true, false, k2, w0, m, xx, k2, xh0, w0, 0f, xgW0, w0);         // dW0 = xᵀ·dh
                Product(false, true, m, k2, w0, xh0, w0, xwIn, w0, 0f, xdx, k2);        // dx = dh·W0ᵀ
            }) * 1e6;
        }
    }

    /// <summary>Attention scores: Q [50×16] · Kᵀ for 1024 sequences (B given transposed, as attention does).</summary>
    private static double? BatchedGflops(bool? managed)
    {
        if (managed == false && !Gemm.BlasAvailable) return null;
        const int batch = 1024, m = 50, k = 16, n = 50;
        var rng = new Random(2);
        var q = RandomArray(rng, batch * m * k);
        var kk = RandomArray(rng, batch * n * k);
        var c = new float[batch * m * n];
        bool saved = Gemm.ForceManaged;
        long savedMin = Gemm.BlasMinMacs;
        if (managed is bool forced)
        {
            Gemm.ForceManaged = forced;
            if (!forced) Gemm.BlasMinMacs = 0;
        }
        try
        {
            double s = BenchTimer.MedianSecondsPerCall(() =>
                Gemm.SgemmStridedBatched(false, true, m, n, k, 1f, q, k, m * k, kk, k, n * k, 0f, c, n, m * n, batch));
            return 2.0 * batch * m * n * k / s / 1e9;
        }
        finally
        {
            Gemm.ForceManaged = saved;
            Gemm.BlasMinMacs = savedMin;
        }
    }

    private static double AttentionUs(bool fused)
    {
        const int items = 1024, l = 50, d = 16;
        var rng = new Random(8);
        var q = RandomArray(rng, items * l * d);
        var k = RandomArray(rng, items * l * d);
        var p = new float[items * l * l];
        return BenchTimer.MedianSecondsPerCall(() =>
        {
            if (fused) AttentionScores.Forward(q, k, items, l, l, d, 0.25f, p);
            else
            {
                Gemm.SgemmStridedBatched(false, true, l, l, d, 0.25f, q, d, l * d, k, d, l * d, 0f, p, l, l * l, items);
                Softmax.Forward(p, items * l, l, p);
            }
        }) * 1e6;
    }

    const int DinRows = 100 * 50, DinK = 32, DinH1 = 64, DinH2 = 32;
    const double DinUnitFlops = 2.0 * DinRows * (DinK * DinH1 + DinH1 * DinH2 + DinH2);

    const int T5Tokens = 80, T5Dim = 32;

    static (Nn.Embedding Tokens, Nn.T5Encoder Encoder, Nn.T5Decoder Decoder, int[] Ids, Tensor Keep) T5Parts(bool freeze)
    {
        var rng = new Rng(12);
        var tokens = new Nn.Embedding(300, T5Dim, rng, std: 1f);
        var encoder = new Nn.T5Encoder(T5Dim, 2, 16, 64, 2, rng);
        var decoder = new Nn.T5Decoder(T5Dim, 2, 16, 64, 2, rng);
        foreach (var m in new Nn.Module[] { tokens, encoder, decoder }) { if (freeze) m.Freeze(); else m.Eval(); }
        var ids = new int[T5Tokens];
        for (int i = 0; i < ids.Length; i++) ids[i] = 2 + rng.NextInt(298);
        return (tokens, encoder, decoder, ids, Tensor.Full(1f, 1, T5Tokens));
    }

    static double T5EncoderUs(bool fused)
    {
        var (tokens, encoder, _, ids, keep) = T5Parts(freeze: fused);
        return OnThreads(1, () => BenchTimer.MedianSecondsPerCall(() =>
        {
            using var tape = Tape.Inference();
            if (fused) Nn.T5FusedInference.Encode(encoder, tokens, ids, 1, T5Tokens, keep.Data);
            else encoder.Forward(tokens.Forward(ids, 1, T5Tokens), keep);
        }) * 1e6);
    }

    /// <summary>A measurement with the kernels held to <paramref name="threads"/> (1: a request's default in <c>bench request</c>).</summary>
    static double OnThreads(int threads, Func<double> measure)
    {
        int saved = KernelThreads.Max;
        KernelThreads.Max = threads;
        try { return measure(); }
        finally { KernelThreads.Max = saved; }
    }

    static double T5DecodeUs(bool fused)
    {
        var (tokens, encoder, decoder, ids, keep) = T5Parts(freeze: fused);
        // outside a tape scope: the cache's tensors own their arrays (a scope would return them to the pool)
        var memory = decoder.CreateCache(encoder.Forward(tokens.Forward(ids, 1, T5Tokens), keep), keep);
        int[] step = [1];
        return OnThreads(1, () => BenchTimer.MedianSecondsPerCall(() =>
        {
            using var tape = Tape.Inference();
            if (fused)
            {
                var decoding = Nn.T5FusedInference.Decoding.Start(decoder, memory, 3)!;
                for (int s = 0; s < 3; s++) decoding.Step(tokens, step);
            }
            else
            {
                var cache = memory.WithoutTokens();
                for (int s = 0; s < 3; s++) decoder.Step(tokens.Forward(step, 1, 1), cache);
            }
        }) * 1e6);
    }

    private static double SmallMlpUs(bool packed)
    {
        const int rows = 100, inDim = 208;
        var rng = new Random(10);
        InferenceLayer Layer(int i, int o, InferenceActivation act)
        {
            var weight = RandomArray(rng, i * o);
            return new(weight, RandomArray(rng, o), i, o, act, Panels: packed ? SmallMatMul.Pack(weight, i, o) : null);
        }
        InferenceLayer[] hidden = [Layer(inDim, 256, InferenceActivation.Relu), Layer(256, 256, InferenceActivation.Relu), Layer(256, 256, InferenceActivation.Relu)];
        var output = Layer(256, 1, InferenceActivation.Identity);
        var x = RandomArray(rng, rows * inDim);
        var y = new float[rows];
        return OnThreads(1, () => BenchTimer.MedianSecondsPerCall(() => SmallMlpKernel.Forward(x, rows, inDim, hidden, output, y)) * 1e6);
    }

    /// <summary>A 256×256 layer over 100 ReLU-output rows whose 4-row blocks are all 0 at 42 % of the
    /// positions (and single values 0 at about half the rest): DeepFM's second layer on a request.</summary>
    private static unsafe double ReluLayerUs(bool skip)
    {
        const int rows = 100, k = 256, n = 256;
        var rng = new Random(14);
        var x = RandomArray(rng, rows * k);
        for (int i = 0; i < x.Length; i++) if (x[i] < 0) x[i] = 0;
        for (int block = 0; block < rows / 4; block++)
            for (int p = 0; p < k; p++)
                if (rng.NextDouble() < 0.42) for (int r = 0; r < 4; r++) x[(block * 4 + r) * k + p] = 0;
        var weight = RandomArray(rng, k * n);
        var layer = new InferenceLayer(weight, RandomArray(rng, n), k, n, InferenceActivation.Relu, Panels: SmallMatMul.Pack(weight, k, n));
        var y = new float[rows * n];
        return OnThreads(1, () => BenchTimer.MedianSecondsPerCall(() =>
        {
            fixed (float* px = x, py = y) layer.Forward(px, rows, rows, py, afterRelu: skip);
        }) * 1e6);
    }

    private static double DinUnitUs(int threads, bool packed = false)
    {
        var rng = new Random(9);
        var keys = RandomArray(rng, 50 * DinK);
        var query = RandomArray(rng, 100 * DinK);
        var rowKey = new int[DinRows];
        var rowSample = new int[DinRows];
        for (int r = 0; r < DinRows; r++) { rowKey[r] = r % 50; rowSample[r] = r / 50; }
        InferenceLayer Dice(int i, int o, bool bias)
        {
            var weight = RandomArray(rng, i * o);
            return new(weight, bias ? RandomArray(rng, o) : null, i, o, InferenceActivation.Dice, RandomArray(rng, o), RandomArray(rng, o),
                Enumerable.Repeat(1f, o).ToArray(), packed ? SmallMatMul.Pack(weight, i, o) : null);
        }
        var first = Dice(DinK, DinH1, false);
        InferenceLayer[] hidden = [Dice(DinH1, DinH2, true)];
        var keyPart = RandomArray(rng, 50 * DinH1);
        var queryPart = RandomArray(rng, 100 * DinH1);
        var w = RandomArray(rng, DinH2);
        var scores = new float[DinRows];
        return OnThreads(threads, () => BenchTimer.MedianSecondsPerCall(() => AttentionUnitKernel.Scores(keys, rowKey, query, rowSample, DinK,
            keyPart, queryPart, first, hidden, w, 0f, DinRows, scores)) * 1e6);
    }

    private static double FmaPeakGflops()
    {
        const int iterations = 1 << 20;
        int threads = KernelThreads.Max;
        // On the kernel threads, as the kernels run: Parallel.For's second iteration could wait for a
        // thread-pool thread and run after the first, and the key then read one core's peak (113 GFLOP/s
        // on a 2-vCPU Zen 4 whose GEMM reached 188).
        double s = BenchTimer.MedianSecondsPerCall(() => KernelThreads.Run(new FmaPeakJob(iterations), threads, threads), 0.05, 7);
        int lanes = System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? 16 : 8;
        return 2.0 * lanes * 12 * iterations * threads / s / 1e9;
    }

    readonly struct FmaPeakJob(int iterations) : IRangeJob
    {
        public void Run(int start, int end)
        {
            for (int t = start; t < end; t++)
                if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported) FmaLoop(iterations);
                else FmaLoop256(iterations);
        }
    }

    /// <summary>The same on 256-bit vectors: twelve Vector512 accumulators would be 24 ymm
    /// registers on a CPU without AVX-512 (16 exist), and the spills would be what it measured.</summary>
    private static void FmaLoop256(int iterations)
    {
        var x = Vector256.Create(0.999f);
        var y = Vector256.Create(1e-3f);
        Vector256<float> a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
        for (int i = 0; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, x, y); a1 = Vector256.FusedMultiplyAdd(a1, x, y);
            a2 = Vector256.FusedMultiplyAdd(a2, x, y); a3 = Vector256.FusedMultiplyAdd(a3, x, y);
            a4 = Vector256.FusedMultiplyAdd(a4, x, y); a5 = Vector256.FusedMultiplyAdd(a5, x, y);
            a6 = Vector256.FusedMultiplyAdd(a6, x, y); a7 = Vector256.FusedMultiplyAdd(a7, x, y);
            a8 = Vector256.FusedMultiplyAdd(a8, x, y); a9 = Vector256.FusedMultiplyAdd(a9, x, y);
            a10 = Vector256.FusedMultiplyAdd(a10, x, y); a11 = Vector256.FusedMultiplyAdd(a11, x, y);
        }
        sink = Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    private static float sink;

    private static void FmaLoop(int iterations)
    {
        var x = Vector512.Create(0.999f);
        var y = Vector512.Create(1e-3f);
        Vector512<float> a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
        for (int i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, x, y); a1 = Vector512.FusedMultiplyAdd(a1, x, y);
            a2 = Vector512.FusedMultiplyAdd(a2, x, y); a3 = Vector512.FusedMultiplyAdd(a3, x, y);
            a4 = Vector512.FusedMultiplyAdd(a4, x, y); a5 = Vector512.FusedMultiplyAdd(a5, x, y);
            a6 = Vector512.FusedMultiplyAdd(a6, x, y); a7 = Vector512.FusedMultiplyAdd(a7, x, y);
            a8 = Vector512.FusedMultiplyAdd(a8, x, y); a9 = Vector512.FusedMultiplyAdd(a9, x, y);
            a10 = Vector512.FusedMultiplyAdd(a10, x, y); a11 = Vector512.FusedMultiplyAdd(a11, x, y);
        }
        sink = Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    private static double CopyGbps()
    {
        const int n = 1 << 22;
        var a = RandomArray(new Random(3), n);
        var y = new float[n];
        double s = BenchTimer.MedianSecondsPerCall(() => a.AsSpan().CopyTo(y));
        return 2.0 * n * sizeof(float) / s / 1e9;
    }

    private static double AddGbps()
    {
        const int n = 1 << 20;
        var rng = new Random(3);
        var a = RandomArray(rng, n);
        var b = RandomArray(rng, n);
        var y = new float[n];
        double s = BenchTimer.MedianSecondsPerCall(() => Elementwise.Add(a, b, y));
        return 3.0 * n * sizeof(float) / s / 1e9;
    }

    private static double ActivationGbps(Activation activation)
    {
        const int rows = 1024, cols = 1024;
        var x = RandomArray(new Random(4), rows * cols);
        var y = new float[rows * cols];
        double s = BenchTimer.MedianSecondsPerCall(() => BiasActivation.Forward(x, default, rows, cols, activation, y));
        return 2.0 * rows * cols * sizeof(float) / s / 1e9;
    }

    private static double BiasGeluGbps()
    {
        const int rows = 1024, cols = 256;
        var rng = new Random(5);
        var x = RandomArray(rng, rows * cols);
        var bias = RandomArray(rng, cols);
        var y = new float[rows * cols];
        double s = BenchTimer.MedianSecondsPerCall(() => BiasActivation.Forward(x, bias, rows, cols, Activation.GeluErf, y));
        return 2.0 * rows * cols * sizeof(float) / s / 1e9;
    }

    private static double DiceUs()
    {
        const int rows = 1024, cols = 200;
        var rng = new Rng(8);
        var dice = new Nn.Dice(cols);
        var x = Tensor.Parameter("x", rows, cols);
        for (int i = 0; i < x.Size; i++) { x.Data[i] = rng.NextFloat() * 2 - 1; }
        for (int i = 0; i < cols; i++) dice.Alpha.Data[i] = 0.25f;
        var seed = Tensor.Full(0.01f, rows, cols);
        return BenchTimer.MedianSecondsPerCall(() =>
        {
            using var tape = Tape.Train();
            var y = dice.Forward(x);
            y.Grad = seed;
            tape.BackwardFrom(y);   // x's and α's gradients accumulate in place, as a parameter's do over a step
        }) * 1e6;
    }

    private static double AdamKernelUs()
    {
        const int n = 140_000;
        var rng = new Random(6);
        var p = RandomArray(rng, n);
        var g = RandomArray(rng, n);
        var m = new float[n];
        var v = new float[n];
        var settings = new AdamSettings(1e-3f);
        long step = 0;
        return BenchTimer.MedianSecondsPerCall(() => Adam.Step(p, g, m, v, settings, ++step)) * 1e6;
    }

    private static double EmbeddingKernelUs()
    {
        const int vocab = 4000, dim = 16, count = 1024 * 50;
        var rng = new Random(7);
        var table = RandomArray(rng, vocab * dim);
        var ids = new int[count];
        for (int i = 0; i < count; i++) ids[i] = rng.Next(vocab);
        var output = new float[count * dim];
        var gradOut = RandomArray(rng, count * dim);
        var gradTable = new float[vocab * dim];
        var touched = new bool[vocab];
        var touchedRows = new List<int>(vocab);
        return BenchTimer.MedianSecondsPerCall(() =>
        {
            Embedding.Gather(table, vocab, dim, ids, output);
            Embedding.ScatterAddRows(gradOut, ids, vocab, dim, gradTable, touched, touchedRows);
            Embedding.ClearTouchedRows(gradTable, dim, touched, touchedRows);
        }) * 1e6;
    }

    private static float[] RandomArray(Random rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    // ---- engine-level measurements (tensors, tape, optimizer) ----------------------------

    static double TinyOpUs(int rows, bool backward) => BenchTimer.MedianSecondsPerCall(TinyOp(rows, backward)) * 1e6;

    /// <summary>ns per one-float slot update with ids that repeat back to back: where a masked store is
    /// not forwarded to the next load of the same address, each repeat waits for the store.</summary>
    static unsafe double OneFloatUpdateNs(bool masked)
    {
        const int n = 51_200, slotCount = 8;
        var rng = new Rng(6);
        var ids = new int[n];
        var g = new float[n];
        for (int i = 0; i < n; i++) { ids[i] = rng.NextInt(slotCount); g[i] = rng.NextFloat(); }
        var slots = new float[slotCount + 16];
        double seconds = BenchTimer.MedianSecondsPerCall(() =>
        {
            fixed (float* pg = g, ps = slots)
            fixed (int* pi = ids)
                for (int i = 0; i < n; i++)
                {
                    float* at = ps + pi[i];
                    if (masked) VectorMath.StorePartial(VectorMath.LoadPartial(pg + i, 1) + VectorMath.LoadPartial(at, 1), at, 1);
                    else *at = pg[i] + *at;
                }
        });
        return seconds * 1e9 / n;
    }

    /// <summary>The FM pairwise term of a [1024, 9, 16] parameter inside a recording scope, back-propagated from a given gradient.</summary>
    static double FmPairsUs(bool fused)
    {
        var rng = new Rng(2);
        var v = Tensor.Parameter("v", 1024, 9, 16);
        for (int i = 0; i < v.Size; i++) v.Data[i] = rng.NextFloat() - 0.5f;
        var seed = Tensor.Full(1f, 1024);
        return BenchTimer.MedianSecondsPerCall(() =>
        {
            using var tape = Tape.Train();
            Tensor y;
            if (fused) y = Ops.FactorizationPairs(v);
            else
            {
                var sum = Ops.Sum(v, 1);
                y = Ops.MulScalar(Ops.Sum(Ops.Sub(Ops.Mul(sum, sum), Ops.Sum(Ops.Mul(v, v), 1)), 1), 0.5f);
            }
            y.Grad = seed;
            tape.BackwardFrom(y);
        }) * 1e6;
    }

    static double BiasReluUs(bool findLive)
    {
        var rng = new Random(6);
        var z = RandomArray(rng, 1024 * 256);
        var bias = RandomArray(rng, 256);
        for (int j = 0; j < 256; j += 3) bias[j] = -100f;   // a third of the columns off, as in DeepFM's layers
        var y = new float[z.Length];
        var live = new int[256];
        return BenchTimer.MedianSecondsPerCall(findLive
            ? () => ZeroColumns.BiasRelu(z, bias, 1024, 256, y, live)
            : () => BiasActivation.Forward(z, bias, 1024, 256, Activation.Relu, y)) * 1e6;
    }

    static double ReluLayersUs(bool skip)
    {
        var rng = new Rng(5);
        Tensor Param(string name, params int[] shape)
        {
            var t = Tensor.Parameter(name, shape);
            for (int i = 0; i < t.Size; i++) t.Data[i] = (float)rng.NextNormal() * 0.1f;
            return t;
        }
        var x = Param("x", 1024, 256);
        var w1 = Param("w1", 256, 256);
        var b1 = Param("b1", 256);
        var w2 = Param("w2", 256, 256);
        var b2 = Param("b2", 256);
        for (int j = 0; j + 2 < 256; j += 10) { b1.Data[j] = -100f; b1.Data[j + 1] = -100f; b1.Data[j + 2] = -100f; }
        for (int j = 5; j + 2 < 256; j += 10) { b2.Data[j] = -100f; b2.Data[j + 1] = -100f; b2.Data[j + 2] = -100f; }
        var seed = Tensor.Full(1f, 1024, 256);
        return BenchTimer.MedianSecondsPerCall(() =>
        {
            foreach (var p in new[] { x, w1, b1, w2, b2 }) p.ZeroGrad();
            using var tape = Tape.Train();
            var h = Ops.LinearRelu(x, w1, b1, null, out var live, skip);
            var y = Ops.LinearRelu(h, w2, b2, live, out _, skip);
            y.Grad = seed;
            tape.BackwardFrom(y);
        }) * 1e6;
    }

    /// <summary>y = a + b on [rows, 16] parameters inside a recording scope, optionally back-propagated from a given gradient.</summary>
    static Action TinyOp(int rows, bool backward)
    {
        var rng = new Rng(1);
        var a = Tensor.Parameter("a", rows, 16);
        var b = Tensor.Parameter("b", rows, 16);
        for (int i = 0; i < a.Size; i++) { a.Data[i] = rng.NextFloat(); b.Data[i] = rng.NextFloat(); }
        var seed = Tensor.Full(1f, rows, 16);
        return () =>
        {
            using var tape = Tape.Train();
            var y = Ops.Add(a, b);
            if (backward)
            {
                y.Grad = seed;   // seed the gradient directly: the add alone, no reduction op
                tape.BackwardFrom(y);
            }
        };
    }

    static double TinyOpAllocatedBytes()
    {
        var op = TinyOp(1024, backward: true);
        for (int i = 0; i < 100; i++) op();
        const int calls = 1000;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++) op();
        return (GC.GetAllocatedBytesForCurrentThread() - before) / (double)calls;
    }

    /// <summary>
    /// The floor under tiny_op_fwd_bwd_us: the bytes the 1024×16 add must move (forward reads a, b
    /// and writes y; backward reads gy and reads/writes ga and gb: 9 × 64 KB) in plain vector loops.
    /// </summary>
    static double TinyOpFloorUs()
    {
        const int n = 1024 * 16;
        var rng = new Random(10);
        var a = RandomArray(rng, n);
        var b = RandomArray(rng, n);
        var y = new float[n];
        var gy = RandomArray(rng, n);
        var ga = new float[n];
        var gb = new float[n];
        return BenchTimer.MedianSecondsPerCall(() =>
        {
            System.Numerics.Tensors.TensorPrimitives.Add(a, b, y);
            System.Numerics.Tensors.TensorPrimitives.Add(ga, gy, ga);
            System.Numerics.Tensors.TensorPrimitives.Add(gb, gy, gb);
        }) * 1e6;
    }

    static double EmbeddingOpUs()
    {
        var rng = new Rng(2);
        var ids = new int[1024 * 50];
        for (int i = 0; i < ids.Length; i++) ids[i] = rng.NextInt(4000);
        return SparseLookupUs(4000, table => Ops.Embedding(table, ids, [1024, 50]), Tensor.Full(1f, 1024, 50, 16));
    }

    /// <summary>One half of the embedding op's kernels, without the tape and with its buffers alone in
    /// the caches (the op alternates a 3.2 MB output and a 3.2 MB gradient, which these do not).</summary>
    static double EmbeddingPhaseUs(bool backward)
    {
        var rng = new Rng(2);
        const int n = 1024 * 50, vocab = 4000, dim = 16;
        var ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = rng.NextInt(vocab);
        var table = RandomArray(new Random(12), vocab * dim);
        var rows = new float[n * dim];
        var grad = new SparseRowGrad(vocab, dim);
        return BenchTimer.MedianSecondsPerCall(backward
            ? () => { grad.ScatterAdd(ids, n, -1, rows); grad.Clear(); }
            : () => Embedding.GatherRows(table, vocab, dim, ids, n, -1, rows, null)) * 1e6;
    }

    static double EmbeddingBagOpUs()
    {
        var rng = new Rng(3);
        const int rows = 1024, width = 50, vocab = 3700;
        var ids = new int[rows * width];
        var lengths = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            lengths[r] = rng.NextInt(width + 1);
            for (int l = 0; l < lengths[r]; l++) ids[r * width + l] = 1 + rng.NextInt(vocab - 1);
        }
        return SparseLookupUs(vocab, table => Ops.EmbeddingBag(table, ids, rows, width, lengths, mean: true), Tensor.Full(1f, rows, 16));
    }

    static double EmbeddingBagWidth1Us()
    {
        var rng = new Rng(4);
        const int rows = 1024, width = 50, vocab = 3700;
        var ids = new int[rows * width];
        var lengths = new int[rows];
        Array.Fill(lengths, width);
        for (int i = 0; i < ids.Length; i++) ids[i] = 1 + (int)((vocab - 1) * Math.Pow(rng.NextDouble(), 3));   // cubed: low ids popular
        return SparseLookupUs(vocab, table => Ops.EmbeddingBag(table, ids, rows, width, lengths, mean: true), Tensor.Full(1f, rows, 1), dim: 1);
    }

    /// <summary>µs of a lookup into a [vocab, dim] table (16 unless given) with a sparse row gradient, forward and backward
    /// from <paramref name="seed"/> (the op alone, no reduction), the gradient cleared after each.</summary>
    static double SparseLookupUs(int vocab, Func<Tensor, Tensor> lookup, Tensor seed, int dim = 16)
    {
        var table = Tensor.Parameter("table", vocab, dim);
        table.SparseGrad = new SparseRowGrad(vocab, dim);
        return BenchTimer.MedianSecondsPerCall(() =>
        {
            using (var tape = Tape.Train())
            {
                var y = lookup(table);
                y.Grad = seed;
                tape.BackwardFrom(y);
            }
            table.SparseGrad.Clear();
        }) * 1e6;
    }

    /// <summary>
    /// The floor under embedding_fwd_bwd_us: the forward must write the [1024, 50, 16] output and
    /// the backward must read a gradient of the same size (the 256 KB table and its row gradients
    /// stay in L2). Here both passes are plain vector loops split over the kernel threads like the
    /// real ones, over the same pooled-size buffers.
    /// </summary>
    static double EmbeddingFloorUs()
    {
        const int n = 1024 * 50 * 16;
        var output = new float[n];
        var gradient = RandomArray(new Random(11), n);
        int workers = KernelThreads.ForElements(n);
        var job = new FloorJob(output, gradient, new float[workers * 16], workers);
        return BenchTimer.MedianSecondsPerCall(() =>
        {
            KernelThreads.Run(job with { Write = true }, workers, workers);
            KernelThreads.Run(job with { Write = false }, workers, workers);
        }) * 1e6;
    }

    readonly record struct FloorJob(float[] Output, float[] Gradient, float[] Sums, int Parts, bool Write = false) : IRangeJob
    {
        public void Run(int start, int end)
        {
            for (int w = start; w < end; w++)
            {
                int from = (int)((long)Output.Length * w / Parts), to = (int)((long)Output.Length * (w + 1) / Parts);
                if (Write) Output.AsSpan(from, to - from).Fill(1f);
                else Sums[w * 16] = System.Numerics.Tensors.TensorPrimitives.Sum(Gradient.AsSpan(from, to - from));
            }
        }
    }

    static double AdamOptimizerUs()
    {
        var p = Tensor.Parameter("w", 140_000);
        p.Grad = Tensor.Full(0.01f, 140_000);
        var adam = new Optim.Adam([p]);
        return BenchTimer.MedianSecondsPerCall(adam.Step) * 1e6;
    }
}
