using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.Generative;

/// <summary>
/// GenCI's generative module: a T5 encoder–decoder over the flattened, level-specific
/// semantic-ID tokens of a history. The encoder output gives the long-term intent; the decoder
/// is trained by teacher forcing on the next item's codes (NTP) and, at prediction time,
/// generates a semantic ID from the history alone (greedy or beam search), each step restricted
/// to the codes that exist at that level or, with the trie, to codes that continue an existing item.
/// Token ids: 0 padding, 1 BOS (the decoder's start), then each level's codes in its own range.
/// </summary>
public sealed class SemanticIdGenerator : Module
{
    /// <summary>Replaced when the model's semantic-code buffer is loaded from a checkpoint or bundle (GenCi.SyncCodes).</summary>
    public SemanticCodes Codes;
    public readonly int DModel;
    readonly int[] levelOffset;
    readonly T5Encoder encoder;
    // Public so a test can decode without the cache (the reference the cached generation must match).
    public readonly Embedding Tokens;
    public readonly T5Decoder Decoder;
    /// <summary>One output head per level: decoder state → logits over that level's codes.</summary>
    public readonly Linear[] Heads;

    public const int Bos = 1;

    public SemanticIdGenerator(SemanticCodes codes, int dModel, int heads, int headDim, int dFf, int encoderLayers, int decoderLayers, float dropout, Rng rng)
    {
        Codes = codes;
        DModel = dModel;
        levelOffset = new int[codes.Levels];
        int vocab = 2;
        for (int l = 0; l < codes.Levels; l++) { levelOffset[l] = vocab; vocab += codes.VocabSizes[l]; }
        // T5 embeds tokens with unit variance: its RMS norms and unscaled attention expect it.
        Tokens = new Embedding(vocab, dModel, rng, paddingIdx: 0, std: 1f);
        encoder = new T5Encoder(dModel, heads, headDim, dFf, encoderLayers, rng, dropout: dropout);
        Decoder = new T5Decoder(dModel, heads, headDim, dFf, decoderLayers, rng, dropout: dropout);
        Heads = new Linear[codes.Levels];
        for (int l = 0; l < codes.Levels; l++) Heads[l] = new Linear(dModel, codes.VocabSizes[l], rng, bias: false);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("tokens", Tokens);
        yield return ("encoder", encoder);
        yield return ("decoder", Decoder);
        for (int l = 0; l < Heads.Length; l++) yield return ("head." + l, Heads[l]);
    }

    /// <summary>The token id of code <paramref name="code"/> at level <paramref name="level"/>.</summary>
    public int Token(int level, int code) => levelOffset[level] + code;

    /// <summary>
    /// Encoding and greedy generation for a request's few histories without the op graph
    /// (<see cref="T5FusedInference"/>) when not training; off: always the op path (the reference in tests).
    /// </summary>
    public bool FusedInference { get; set; } = true;

    /// <summary>tokens [U·L] (0 = padding), keep [U, L] → encoder output [U, L, D].</summary>
    public Tensor Encode(int[] tokenIds, int histories, int len, Tensor keep) =>
        (FusedInference ? T5FusedInference.Encode(encoder, Tokens, tokenIds, histories, len, keep.Data) : null)
        ?? encoder.Forward(Tokens.Forward(tokenIds, histories, len), keep);

    /// <summary>Every decoder layer's cross-attention keys/values of the encoder output [U, L, D], projected once per history.</summary>
    public T5DecoderCache ProjectMemory(Tensor memory, Tensor keep) => Decoder.CreateCache(memory, keep);

    /// <summary>
    /// Teacher-forced next-item loss: the mean over levels of the cross-entropy of each target
    /// code given the history and the target's earlier codes. targetCodes [B·Levels]; a sample
    /// whose target has no semantic ID (or that <paramref name="use"/> excludes) is skipped.
    /// memory is per distinct history (<see cref="ProjectMemory"/>), rowHistory maps each sample to its history.
    /// </summary>
    public Tensor NextItemLoss(T5DecoderCache memory, int[] rowHistory, int[] targetCodes, bool[]? use)
    {
        int n = rowHistory.Length, lv = Codes.Levels;
        var rows = IsIdentity(rowHistory, memory.Rows) ? memory : memory.Select(rowHistory);
        var ids = new int[n * lv];
        for (int r = 0; r < n; r++)
        {
            ids[r * lv] = Bos;
            for (int k = 1; k < lv; k++) ids[r * lv + k] = Token(k - 1, targetCodes[r * lv + k - 1]);
        }
        var h = Decoder.Forward(Tokens.Forward(ids, n, lv), rows);                  // [B, Levels, D]
        Tensor? total = null;
        var targets = new int[n];
        for (int l = 0; l < lv; l++)
        {
            bool any = false;
            for (int r = 0; r < n; r++)
            {
                bool ok = (use is null || use[r]) && AllKnown(targetCodes.AsSpan(r * lv, lv));
                targets[r] = ok ? targetCodes[r * lv + l] : -100;
                any |= ok;
            }
            if (!any) continue;
            var logits = Heads[l].Forward(Ops.Reshape(Ops.Slice(h, 1, l, 1), n, DModel));
            var ce = Ops.CrossEntropy(logits, (int[])targets.Clone());
            total = total is null ? ce : Ops.Add(total, ce);
        }
        return total is null ? Tensor.Scalar(0f) : Ops.MulScalar(total, 1f / lv);
    }

    static bool AllKnown(ReadOnlySpan<int> codes)
    {
        foreach (int c in codes) if (c < 2) return false;
        return true;
    }

    /// <summary>
    /// Next-code logits [R, V_level] of the R decoding rows at step <paramref name="level"/>: row r
    /// continues row <c>parents[r]</c> of the previous step (at level 0, its history) and has
    /// decoded the codes <c>prefixes[r·level .. r·level + level)</c>.
    /// </summary>
    public delegate Tensor NextCodeLogits(int level, int[] parents, int[] prefixes);

    /// <summary>
    /// Generates one semantic ID per history from the projected encoder output alone (see
    /// <see cref="Search"/>), one token per step through the decoder's key/value cache. Records
    /// nothing on the tape. Returns codes [U·Levels], zero past the generated levels.
    /// </summary>
    public int[] Generate(T5DecoderCache memory, int beam, bool trie, int levels)
    {
        using (Tape.Inference())
        {
            // greedy search keeps row r on history r, which is all the fused decoding supports
            var next = FusedInference && beam <= 1 && T5FusedInference.Decoding.Start(Decoder, memory, levels) is { } fused
                ? FusedSteps(fused) : CachedSteps(memory);
            return Search(memory.Rows, next, beam, trie, levels);
        }
    }

    /// <summary><see cref="CachedSteps"/> through a fused greedy decoding (rows never change history).</summary>
    NextCodeLogits FusedSteps(T5FusedInference.Decoding decoding) => (level, parents, prefixes) =>
    {
        int rows = parents.Length;
        var ids = new int[rows];
        for (int r = 0; r < rows; r++) ids[r] = level == 0 ? Bos : Token(level - 1, prefixes[r * level + level - 1]);
        return Heads[level].Forward(decoding.Step(Tokens, ids));                  // [R, V_level]
    };

    /// <summary>Next-code logits by incremental decoding: each step feeds only the newest token.</summary>
    public NextCodeLogits CachedSteps(T5DecoderCache memory)
    {
        var cache = memory.WithoutTokens();
        return (level, parents, prefixes) =>
        {
            int rows = parents.Length;
            if (!IsIdentity(parents, cache.Rows)) cache = cache.Select(parents);
            var ids = new int[rows];
            for (int r = 0; r < rows; r++) ids[r] = level == 0 ? Bos : Token(level - 1, prefixes[r * level + level - 1]);
            var h = Decoder.Step(Tokens.Forward(ids, rows, 1), cache);              // [R, 1, D]
            return Heads[level].Forward(Ops.Reshape(h, rows, DModel));              // [R, V_level]
        };
    }

    /// <summary>
    /// Beam search of width <paramref name="beam"/> (1 = greedy) over <paramref name="histories"/>
    /// histories, each step masked to the codes valid at that level (or, with
    /// <paramref name="trie"/>, to those continuing an existing item). Only the first
    /// <paramref name="levels"/> codes are generated (cohorts need no collision digit).
    /// Returns codes [U·Levels], zero past the generated levels.
    /// </summary>
    public int[] Search(int histories, NextCodeLogits next, int beam, bool trie, int levels)
    {
        int u = histories, lv = Codes.Levels;
        beam = Math.Max(1, beam);
        // beams of history h occupy slots h·beam .. h·beam + live[h]; slotRow: the decoding row of a slot at the last step
        var live = new int[u];
        var prefix = new int[u * beam * lv];
        var score = new double[u * beam];
        var keys = new long[u * beam];
        var slotRow = new int[u * beam];
        for (int h = 0; h < u; h++) { live[h] = 1; slotRow[h * beam] = h; }
        var cand = new List<(double Score, int Slot, int Code)>();
        for (int level = 0; level < levels; level++)
        {
            int rows = 0;
            for (int h = 0; h < u; h++) rows += live[h];
            var rowSlot = new int[rows];
            var parents = new int[rows];
            var pre = new int[rows * Math.Max(1, level)];
            int r = 0;
            for (int h = 0; h < u; h++)
                for (int b = 0; b < live[h]; b++, r++)
                {
                    int slot = h * beam + b;
                    rowSlot[r] = slot;
                    parents[r] = slotRow[slot];
                    for (int k = 0; k < level; k++) pre[r * level + k] = prefix[slot * lv + k];
                }
            var logits = next(level, parents, pre).Data;
            int vocab = Codes.VocabSizes[level];
            var nextPrefix = new int[u * beam * lv];
            var nextScore = new double[u * beam];
            var nextKeys = new long[u * beam];
            var nextLive = new int[u];
            // the decoding row of each slot at this step: where the next step's parents point
            var nextSlotRow = new int[u * beam];
            r = 0;
            for (int h = 0; h < u; h++)
            {
                cand.Clear();
                if (beam == 1)
                {
                    // greedy: the best allowed code, no scores or candidate list needed
                    var row1 = logits.AsSpan(r * vocab, vocab);
                    int best = -1;
                    if (trie) { foreach (int c in Codes.Children(keys[h])) if (best < 0 || row1[c] > row1[best]) best = c; }
                    else for (int c = 0; c < vocab; c++) if (Codes.IsValid(level, c) && (best < 0 || row1[c] > row1[best])) best = c;
                    Array.Copy(prefix, h * lv, nextPrefix, h * lv, level);
                    nextPrefix[h * lv + level] = best;
                    nextKeys[h] = Codes.Extend(keys[h], best);
                    nextSlotRow[h] = r;
                    nextLive[h] = 1;
                    r++;
                    continue;
                }
                int firstRow = r;
                for (int b = 0; b < live[h]; b++, r++)
                {
                    var row = logits.AsSpan(r * vocab, vocab);
                    int src = rowSlot[r];
                    double lse = LogSumExpAllowed(row, level, keys[src], trie);
                    if (trie)
                        foreach (int c in Codes.Children(keys[src])) cand.Add((score[src] + row[c] - lse, src, c));
                    else
                        for (int c = 0; c < vocab; c++) if (Codes.IsValid(level, c)) cand.Add((score[src] + row[c] - lse, src, c));
                }
                // highest score first; ties go to the smaller slot, then code, so results are reproducible
                cand.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Slot != b.Slot ? a.Slot.CompareTo(b.Slot) : a.Code.CompareTo(b.Code));
                int keepN = Math.Min(beam, cand.Count);
                for (int b = 0; b < keepN; b++)
                {
                    var (sc, src, c) = cand[b];
                    int dst = h * beam + b;
                    Array.Copy(prefix, src * lv, nextPrefix, dst * lv, level);
                    nextPrefix[dst * lv + level] = c;
                    nextScore[dst] = sc;
                    nextKeys[dst] = Codes.Extend(keys[src], c);
                    nextSlotRow[dst] = firstRow + (src - h * beam);
                }
                nextLive[h] = keepN;
            }
            prefix = nextPrefix; score = nextScore; keys = nextKeys; live = nextLive; slotRow = nextSlotRow;
        }
        var result = new int[u * lv];
        for (int h = 0; h < u; h++) Array.Copy(prefix, h * beam * lv, result, h * lv, lv);   // beam 0 is the best
        return result;
    }

    static bool IsIdentity(int[] rows, int count)
    {
        if (rows.Length != count) return false;
        for (int i = 0; i < rows.Length; i++) if (rows[i] != i) return false;
        return true;
    }

    double LogSumExpAllowed(ReadOnlySpan<float> row, int level, long key, bool trie)
    {
        double max = double.NegativeInfinity, sum = 0;
        if (trie) { foreach (int c in Codes.Children(key)) max = Math.Max(max, row[c]); foreach (int c in Codes.Children(key)) sum += Math.Exp(row[c] - max); }
        else
        {
            for (int c = 0; c < row.Length; c++) if (Codes.IsValid(level, c)) max = Math.Max(max, row[c]);
            for (int c = 0; c < row.Length; c++) if (Codes.IsValid(level, c)) sum += Math.Exp(row[c] - max);
        }
        return max + Math.Log(sum);
    }
}
