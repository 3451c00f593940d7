using System.Buffers;
using System.Numerics.Tensors;
using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors.Nn;

/// <summary>
/// T5 inference for the few histories of a scoring request, on plain arrays instead of the op
/// graph: the encoder over each history's real tokens only, and greedy decoding steps against
/// memory the decoder cache already projected. Why: a GenCI request encodes one history (~80
/// tokens at d 32) and decodes three tokens — ~150 ops of a few µs each around ~0.1 ms of
/// arithmetic. The arithmetic is the op path's — RMS norms by the same kernel, the same masked
/// softmax — with products summed in another order (differences ~1e-7 relative): projections
/// and the encoder's attention on <see cref="SmallMatMul"/> (k summed in order, packed weights
/// when frozen), the decoding steps' one-row attention by the op path's single-threaded GEMMs.
/// Each method returns null when it does not cover its input and the caller takes the op path.
/// </summary>
public static unsafe class T5FusedInference
{
    /// <summary>Most histories one call takes: beyond a request's few, the batched op path wins.</summary>
    public const int MaxHistories = 8;

    /// <summary>
    /// The encoder output [U, len, D] of U histories, tokens [U·len] with keep [U·len] (real tokens
    /// first, then padding); padding rows are zero, as every reader masks them. Null for inputs
    /// this path does not cover: a history without tokens, keep with holes, more than
    /// <see cref="MaxHistories"/> histories, widths not multiples of 16, training mode.
    /// </summary>
    public static Tensor? Encode(T5Encoder encoder, Embedding tokens, int[] tokenIds, int histories, int len, float[] keep)
    {
        if (encoder.Training || Tape.IsRecording || histories > MaxHistories || encoder.Layers.Length == 0) return null;
        var first = encoder.Layers[0];
        int d = tokens.Dim, heads = first.Attn.Heads, dk = first.Attn.HeadDim, inner = heads * dk, dff = first.Ff.Wi.Out;
        if (d % 16 != 0 || inner % 16 != 0 || dff % 16 != 0 || first.Attn.Scaled) return null;
        var counts = new int[histories];
        for (int h = 0; h < histories; h++)
        {
            var k = keep.AsSpan(h * len, len);
            int t = k.IndexOf(0f);
            if (t < 0) t = len;
            if (t == 0 || k[t..].ContainsAnyExcept(0f)) return null;
            counts[h] = t;
        }
        var output = Tensor.Temp([histories, len, d], zero: true);
        var layers = new LayerForms[encoder.Layers.Length];
        for (int i = 0; i < layers.Length; i++) layers[i] = new LayerForms(encoder.Layers[i]);
        for (int h = 0; h < histories; h++)
            EncodeOne(encoder, layers, tokens, tokenIds.AsSpan(h * len, counts[h]), heads, dk, dff, output.Data.AsSpan(h * len * d, counts[h] * d));
        return output;
    }

    /// <summary>One encoder block's projections in kernel form (packed weights when the module is frozen).</summary>
    readonly struct LayerForms(T5EncoderLayer layer)
    {
        public readonly InferenceLayer Q = Form(layer.Attn.Q), K = Form(layer.Attn.K), V = Form(layer.Attn.V), O = Form(layer.Attn.O),
            Wi = Form(layer.Ff.Wi, InferenceActivation.Relu), Wo = Form(layer.Ff.Wo);
    }

    static InferenceLayer Form(Linear l, InferenceActivation act = InferenceActivation.Identity) =>
        new(l.Weight.Data, l.Bias?.Data, l.In, l.Out, act, Panels: l.Panels);

    static void EncodeOne(T5Encoder encoder, LayerForms[] layers, Embedding tokens, ReadOnlySpan<int> ids, int heads, int dk, int dff, Span<float> result)
    {
        int t = ids.Length, inner = heads * dk, span = 2 * t - 1;
        using var a = new Activations(t, tokens.Dim, inner, dff);
        a.Embed(tokens, ids);
        // the bias of key j for query i depends on j − i only: per head, offsets −(t−1)..t−1 in a row,
        // so query i's bias row is the slice starting at t − 1 − i
        var bias = ArrayPool<float>.Shared.Rent(heads * span);
        var rel = encoder.RelBias;
        var w = rel.Weight.Data;
        for (int off = -(t - 1); off < t; off++)
        {
            int bucket = T5RelativePositionBias.Bucket(off, rel.Bidirectional, rel.NumBuckets, rel.MaxDistance);
            for (int h = 0; h < heads; h++) bias[h * span + off + t - 1] = w[bucket * heads + h];
        }
        // every head of every layer reuses one zeroed scratch: the tiles' padding is never written
        int scratchLength = HeadScratchLength(t, dk);
        var scratch = ArrayPool<float>.Shared.Rent(scratchLength);
        Array.Clear(scratch, 0, scratchLength);
        fixed (float* pq = a.Q, pk = a.K, pv = a.V, pc = a.Ctx, pb = bias, ps = scratch)
            for (int li = 0; li < layers.Length; li++)
            {
                var layer = encoder.Layers[li];
                var form = layers[li];
                a.QueriesKeysValues(layer.AttnNorm, form.Q, form.K, form.V);
                for (int h = 0; h < heads; h++) SelfAttentionHead(pq + h * dk, pk + h * dk, pv + h * dk, pb + h * span, t, dk, inner, pc + h * dk, ps);
                a.AddOutput(form.O);
                a.AddFeedForward(layer.FfNorm, form.Wi, form.Wo);
            }
        ArrayPool<float>.Shared.Return(scratch);
        ArrayPool<float>.Shared.Return(bias);
        a.Norm(encoder.FinalNorm, result);
    }

    /// <summary>Floats of <see cref="SelfAttentionHead"/>'s scratch for t tokens and head width dk.</summary>
    static int HeadScratchLength(int t, int dk)
    {
        if (dk % 16 != 0) return t * t;
        int tp = (t + 3) & ~3, tk = (t + 15) & ~15;
        return 2 * tp * dk + 2 * dk * tk + tp * tk;
    }

    /// <summary>
    /// One head of self-attention over t tokens: q, k, v are the head's columns of [t, inner]
    /// matrices, bias the head's offset row (query i reads it from t − 1 − i), context goes to
    /// the head's columns of ctx. The head is copied into contiguous tiles of
    /// <paramref name="scratch"/> (<see cref="HeadScratchLength"/> floats, zeroed once by the
    /// caller) — Q [t₄, dk], Kᵀ [dk, t₁₆], V [t₁₆, dk]; their padding is never written, so it stays
    /// zero for every head — and both products run on <see cref="SmallMatMul"/> (a general GEMM
    /// call on shapes this small costs about as much in dispatch as in arithmetic); padded key
    /// columns are masked by the softmax, padded query rows are never read.
    /// Falls back to strided GEMMs (scratch: the scores) when dk is not a multiple of 16.
    /// </summary>
    static void SelfAttentionHead(float* q, float* k, float* v, float* bias, int t, int dk, int inner, float* ctx, float* scratch)
    {
        if (dk % 16 != 0)
        {
            Gemm.SingleThreaded(false, true, t, t, dk, 1f, q, inner, k, inner, 0f, scratch, t);
            for (int i = 0; i < t; i++)
            {
                var row = new Span<float>(scratch + i * t, t);
                TensorPrimitives.Add(row, new ReadOnlySpan<float>(bias + t - 1 - i, t), row);
                AttentionCore.SoftmaxRow(row, default, t);
            }
            Gemm.SingleThreaded(false, false, t, dk, t, 1f, scratch, t, v, inner, 0f, ctx, inner);
            return;
        }
        int tp = (t + 3) & ~3, tk = (t + 15) & ~15;
        float* qh = scratch, kt = qh + tp * dk, vh = kt + dk * tk, p = vh + tk * dk, c = p + tp * tk;
        for (int i = 0; i < t; i++)
        {
            Buffer.MemoryCopy(q + (long)i * inner, qh + i * dk, dk * 4L, dk * 4L);
            Buffer.MemoryCopy(v + (long)i * inner, vh + i * dk, dk * 4L, dk * 4L);
            for (int col = 0; col < dk; col++) kt[col * tk + i] = k[(long)i * inner + col];
        }
        SmallMatMul.Rows4(qh, tp, dk, kt, tk, p);
        for (int i = 0; i < t; i++)
        {
            var row = new Span<float>(p + i * tk, tk);
            TensorPrimitives.Add(row[..t], new ReadOnlySpan<float>(bias + t - 1 - i, t), row[..t]);
            AttentionCore.SoftmaxRow(row, default, t);
        }
        SmallMatMul.Rows4(p, tp, tk, vh, dk, c);
        for (int i = 0; i < t; i++) Buffer.MemoryCopy(c + i * dk, ctx + (long)i * inner, dk * 4L, dk * 4L);
    }

    /// <summary>
    /// Greedy decoding of R rows (one per history) against the memory a <see cref="T5DecoderCache"/>
    /// projected: <see cref="Step"/> feeds each row's newest token and returns the decoder output,
    /// keeping every layer's self-attention keys and values of the tokens so far (the cache's own
    /// self-attention part is not used). The op path's <see cref="T5Decoder.Step"/> computes the same.
    /// </summary>
    public sealed class Decoding
    {
        readonly T5Decoder decoder;
        readonly T5DecoderCache memory;
        readonly DecoderForms[] layers;
        readonly float[][] selfKeys, selfValues;   // per layer [R, maxSteps, inner]
        readonly int rows, maxSteps, heads, dk, inner, dff, d;
        int length;

        Decoding(T5Decoder decoder, T5DecoderCache memory, int maxSteps, int heads, int dk, int dff, int d)
        {
            this.decoder = decoder;
            this.memory = memory;
            this.maxSteps = maxSteps;
            this.heads = heads;
            this.dk = dk;
            this.dff = dff;
            this.d = d;
            inner = heads * dk;
            rows = memory.Rows;
            layers = new DecoderForms[decoder.Layers.Length];
            selfKeys = new float[layers.Length][];
            selfValues = new float[layers.Length][];
            for (int i = 0; i < layers.Length; i++)
            {
                layers[i] = new DecoderForms(decoder.Layers[i]);
                selfKeys[i] = new float[rows * maxSteps * inner];
                selfValues[i] = new float[rows * maxSteps * inner];
            }
        }

        /// <summary>A decoding of up to <paramref name="maxSteps"/> tokens over the memory's rows, or null where this path does not apply.</summary>
        public static Decoding? Start(T5Decoder decoder, T5DecoderCache memory, int maxSteps)
        {
            if (decoder.Training || Tape.IsRecording || decoder.Layers.Length == 0 || memory.Rows > MaxHistories || memory.Length != 0) return null;
            var first = decoder.Layers[0];
            int heads = first.SelfAttn.Heads, dk = first.SelfAttn.HeadDim, dff = first.Ff.Wi.Out, d = first.SelfAttn.DModel;
            if (d % 16 != 0 || heads * dk % 16 != 0 || dff % 16 != 0 || first.SelfAttn.Scaled || first.CrossAttn.Scaled
                || first.CrossAttn.Heads != heads || first.CrossAttn.HeadDim != dk) return null;
            return new Decoding(decoder, memory, maxSteps, heads, dk, dff, d);
        }

        /// <summary>Row r's token <c>ids[r]</c> (embedded by <paramref name="tokens"/>) at the next position → decoder outputs [R, D].</summary>
        public Tensor Step(Embedding tokens, int[] ids)
        {
            if (length >= maxSteps) throw new InvalidOperationException($"decoding already holds its {maxSteps} tokens");
            if (ids.Length != rows) throw new ArgumentException($"{ids.Length} token ids for {rows} decoding rows");
            int t = length, keys = t + 1, ls = memory.CrossKeys[0].Shape[1];
            using var a = new Activations(rows, d, inner, dff);
            a.Embed(tokens, ids);
            var pool = ArrayPool<float>.Shared;
            float[] scores = pool.Rent(Math.Max(keys, ls)), bias = pool.Rent(heads * keys);
            // position t against keys 0..t, as the op path's bias row
            var rel = decoder.RelBias;
            var w = rel.Weight.Data;
            for (int j = 0; j < keys; j++)
            {
                int bucket = T5RelativePositionBias.Bucket(j - t, rel.Bidirectional, rel.NumBuckets, rel.MaxDistance);
                for (int h = 0; h < heads; h++) bias[h * keys + j] = w[bucket * heads + h];
            }
            var keep = memory.MemoryKeep?.Data;
            fixed (float* pq = a.Q, pk = a.K, pv = a.V, pc = a.Ctx, ps = scores, pb = bias)
                for (int li = 0; li < layers.Length; li++)
                {
                    var layer = decoder.Layers[li];
                    var form = layers[li];
                    a.QueriesKeysValues(layer.SelfAttnNorm, form.SelfQ, form.SelfK, form.SelfV);
                    fixed (float* sk = selfKeys[li], sv = selfValues[li])
                    {
                        for (int r = 0; r < rows; r++)
                        {
                            long at = ((long)r * maxSteps + t) * inner;
                            Buffer.MemoryCopy(pk + r * inner, sk + at, inner * 4L, inner * 4L);
                            Buffer.MemoryCopy(pv + r * inner, sv + at, inner * 4L, inner * 4L);
                        }
                        for (int r = 0; r < rows; r++)
                            for (int h = 0; h < heads; h++)
                            {
                                float* rk = sk + (long)r * maxSteps * inner + h * dk, rv = sv + (long)r * maxSteps * inner + h * dk;
                                Gemm.SingleThreaded(false, true, 1, keys, dk, 1f, pq + r * inner + h * dk, inner, rk, inner, 0f, ps, keys);
                                var row = new Span<float>(ps, keys);
                                TensorPrimitives.Add(row, new ReadOnlySpan<float>(pb + h * keys, keys), row);
                                AttentionCore.SoftmaxRow(row, default, keys);
                                Gemm.SingleThreaded(false, false, 1, dk, keys, 1f, ps, keys, rv, inner, 0f, pc + r * inner + h * dk, inner);
                            }
                    }
                    a.AddOutput(form.SelfO);

                    a.Norm(layer.CrossAttnNorm);
                    a.Project(form.CrossQ, a.Q);
                    fixed (float* ck = memory.CrossKeys[li].Data, cv = memory.CrossValues[li].Data)
                        for (int r = 0; r < rows; r++)
                            for (int h = 0; h < heads; h++)
                            {
                                long m0 = (long)r * ls * inner + h * dk;
                                Gemm.SingleThreaded(false, true, 1, ls, dk, 1f, pq + r * inner + h * dk, inner, ck + m0, inner, 0f, ps, ls);
                                AttentionCore.SoftmaxRow(new Span<float>(ps, ls), keep is null ? default : keep.AsSpan(r * ls, ls), ls);
                                Gemm.SingleThreaded(false, false, 1, dk, ls, 1f, ps, ls, cv + m0, inner, 0f, pc + r * inner + h * dk, inner);
                            }
                    a.AddOutput(form.CrossO);
                    a.AddFeedForward(layer.FfNorm, form.Wi, form.Wo);
                }
            pool.Return(scores);
            pool.Return(bias);
            var output = Tensor.Temp([rows, d]);
            a.Norm(decoder.FinalNorm, output.Data.AsSpan(0, rows * d));
            length++;
            return output;
        }

    }

    /// <summary>One decoder block's projections in kernel form.</summary>
    readonly struct DecoderForms(T5DecoderLayer layer)
    {
        public readonly InferenceLayer SelfQ = Form(layer.SelfAttn.Q), SelfK = Form(layer.SelfAttn.K), SelfV = Form(layer.SelfAttn.V), SelfO = Form(layer.SelfAttn.O),
            CrossQ = Form(layer.CrossAttn.Q), CrossO = Form(layer.CrossAttn.O), Wi = Form(layer.Ff.Wi, InferenceActivation.Relu), Wo = Form(layer.Ff.Wo);
    }

    /// <summary>
    /// One pass's activations for <see cref="Count"/> rows (tokens or decoding rows), padded to a
    /// multiple of 4 (the products' block height), from the shared array pool. Padding rows of
    /// every product's input stay zero, so the padded products stay finite; only real rows are
    /// read back. X is the residual stream, N its norm, Q/K/V/Ctx attention, F the feed-forward's
    /// hidden layer, O a projection's output.
    /// </summary>
    sealed class Activations : IDisposable
    {
        public readonly int Count, Padded, D;
        public readonly float[] X, N, O, Q, K, V, Ctx, F, Rstd;

        public Activations(int count, int d, int inner, int dff)
        {
            Count = count;
            Padded = (count + 3) & ~3;
            D = d;
            var pool = ArrayPool<float>.Shared;
            X = pool.Rent(Padded * d); N = pool.Rent(Padded * d); O = pool.Rent(Padded * d);
            Q = pool.Rent(Padded * inner); K = pool.Rent(Padded * inner); V = pool.Rent(Padded * inner); Ctx = pool.Rent(Padded * inner);
            F = pool.Rent(Padded * dff); Rstd = pool.Rent(Padded);
            Array.Clear(X, 0, Padded * d);
            Array.Clear(N, 0, Padded * d);
            Array.Clear(Ctx, 0, Padded * inner);
        }

        Span<float> Rows(float[] a) => a.AsSpan(0, Count * D);

        /// <summary>X's rows = the tokens' embeddings.</summary>
        public void Embed(Embedding tokens, ReadOnlySpan<int> ids)
        {
            var table = tokens.Weight.Data;
            for (int i = 0; i < Count; i++) table.AsSpan(ids[i] * D, D).CopyTo(X.AsSpan(i * D, D));
        }

        /// <summary>N (or <paramref name="into"/>) = RMSNorm(X) on the real rows.</summary>
        public void Norm(RmsNorm norm, Span<float> into = default) =>
            Normalization.RmsNormForward(Rows(X), norm.Weight.Data, Count, D, norm.Eps, into.IsEmpty ? Rows(N) : into, Rstd.AsSpan(0, Count));

        /// <summary>output = N·W over the padded rows.</summary>
        public void Project(InferenceLayer layer, float[] output)
        {
            fixed (float* pn = N, po = output) layer.Multiply(pn, Padded, po);
        }

        /// <summary>Q, K, V = RMSNorm(X)·W_q, ·W_k, ·W_v: a self-attention block's input.</summary>
        public void QueriesKeysValues(RmsNorm norm, InferenceLayer q, InferenceLayer k, InferenceLayer v)
        {
            Norm(norm);
            Project(q, Q);
            Project(k, K);
            Project(v, V);
        }

        /// <summary>X += Ctx·W: an attention block's output projection and residual.</summary>
        public void AddOutput(InferenceLayer o)
        {
            fixed (float* pc = Ctx, po = O) o.Multiply(pc, Padded, po);
            TensorPrimitives.Add(Rows(X), Rows(O), Rows(X));
        }

        /// <summary>X += wo(relu(wi(RMSNorm(X)))): T5's feed-forward block and its residual.</summary>
        public void AddFeedForward(RmsNorm norm, InferenceLayer wi, InferenceLayer wo)
        {
            Norm(norm);
            fixed (float* pn = N, pf = F, po = O)
            {
                wi.Forward(pn, Padded, Padded, pf);
                wo.Multiply(pf, Padded, po);
            }
            TensorPrimitives.Add(Rows(X), Rows(O), Rows(X));
        }

        public void Dispose()
        {
            var pool = ArrayPool<float>.Shared;
            pool.Return(X); pool.Return(N); pool.Return(O); pool.Return(Q); pool.Return(K); pool.Return(V);
            pool.Return(Ctx); pool.Return(F); pool.Return(Rstd);
        }
    }
}
