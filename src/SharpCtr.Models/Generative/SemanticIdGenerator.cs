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
    readonly Embedding tokens;
    readonly T5Encoder encoder;
    readonly T5Decoder decoder;
    readonly Linear[] heads;

    public const int Bos = 1;

    public SemanticIdGenerator(SemanticCodes codes, int dModel, int heads, int headDim, int dFf, int encoderLayers, int decoderLayers, float dropout, Rng rng)
    {
        Codes = codes;
        DModel = dModel;
        levelOffset = new int[codes.Levels];
        int vocab = 2;
        for (int l = 0; l < codes.Levels; l++) { levelOffset[l] = vocab; vocab += codes.VocabSizes[l]; }
        // T5 embeds tokens with unit variance: its RMS norms and unscaled attention expect it.
        tokens = new Embedding(vocab, dModel, rng, paddingIdx: 0, std: 1f);
        encoder = new T5Encoder(dModel, heads, headDim, dFf, encoderLayers, rng, dropout: dropout);
        decoder = new T5Decoder(dModel, heads, headDim, dFf, decoderLayers, rng, dropout: dropout);
        this.heads = new Linear[codes.Levels];
        for (int l = 0; l < codes.Levels; l++) this.heads[l] = new Linear(dModel, codes.VocabSizes[l], rng, bias: false);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("tokens", tokens);
        yield return ("encoder", encoder);
        yield return ("decoder", decoder);
        for (int l = 0; l < heads.Length; l++) yield return ("head." + l, heads[l]);
    }

    /// <summary>The token id of code <paramref name="code"/> at level <paramref name="level"/>.</summary>
    public int Token(int level, int code) => levelOffset[level] + code;

    /// <summary>tokens [U·L] (0 = padding), keep [U, L] → encoder output [U, L, D].</summary>
    public Tensor Encode(int[] tokenIds, int histories, int len, Tensor keep) =>
        encoder.Forward(tokens.Forward(tokenIds, histories, len), keep);

    /// <summary>Decoder logits of level <paramref name="level"/> after the given prefixes [R, level] (codes), R rows of memory.</summary>
    Tensor StepLogits(int[] prefixes, int rows, int level, Tensor memory, Tensor memoryKeep)
    {
        int len = level + 1;
        var ids = new int[rows * len];
        for (int r = 0; r < rows; r++)
        {
            ids[r * len] = Bos;
            for (int k = 0; k < level; k++) ids[r * len + k + 1] = Token(k, prefixes[r * level + k]);
        }
        var h = decoder.Forward(tokens.Forward(ids, rows, len), memory, memoryKeep);     // [R, len, D]
        var last = Ops.Reshape(Ops.Slice(h, 1, level, 1), rows, DModel);
        return heads[level].Forward(last);                                               // [R, V_level]
    }

    /// <summary>
    /// Teacher-forced next-item loss: the mean over levels of the cross-entropy of each target
    /// code given the history and the target's earlier codes. targetCodes [B·Levels]; a sample
    /// whose target has no semantic ID (or that <paramref name="use"/> excludes) is skipped.
    /// memory/keep are per distinct history, rowHistory maps each sample to its history.
    /// </summary>
    public Tensor NextItemLoss(Tensor memory, Tensor keep, int[] rowHistory, int[] targetCodes, bool[]? use)
    {
        int n = rowHistory.Length, lv = Codes.Levels, len = memory.Shape[1];
        var mem = Ops.IndexSelect(memory, rowHistory);
        var memKeep = Ops.Reshape(Ops.IndexSelect(Ops.Reshape(keep, -1, len), rowHistory), n, len);
        var ids = new int[n * lv];
        for (int r = 0; r < n; r++)
        {
            ids[r * lv] = Bos;
            for (int k = 1; k < lv; k++) ids[r * lv + k] = Token(k - 1, targetCodes[r * lv + k - 1]);
        }
        var h = decoder.Forward(tokens.Forward(ids, n, lv), mem, memKeep);          // [B, Levels, D]
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
            var logits = heads[l].Forward(Ops.Reshape(Ops.Slice(h, 1, l, 1), n, DModel));
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
    /// Generates one semantic ID per history from the encoder output alone: beam search of width
    /// <paramref name="beam"/> (1 = greedy), each step masked to the codes valid at that level
    /// (or, with <paramref name="trie"/>, to those continuing an existing item). Only the first
    /// <paramref name="levels"/> codes are generated (cohorts need no collision digit). Records
    /// nothing on the tape. Returns codes [U·Levels], zero past the generated levels.
    /// </summary>
    public int[] Generate(Tensor memory, Tensor keep, int beam, bool trie, int levels)
    {
        int u = memory.Shape[0], len = memory.Shape[1], lv = Codes.Levels;
        beam = Math.Max(1, beam);
        // beams of history h occupy rows h·beam .. h·beam + live[h]
        var live = new int[u];
        var prefix = new int[u * beam * lv];
        var score = new double[u * beam];
        var keys = new long[u * beam];
        for (int h = 0; h < u; h++) live[h] = 1;
        using (Tape.Inference())
        {
            for (int level = 0; level < levels; level++)
            {
                int rows = 0;
                for (int h = 0; h < u; h++) rows += live[h];
                var rowHist = new int[rows];
                var rowBeam = new int[rows];
                var pre = new int[rows * Math.Max(1, level)];
                int r = 0;
                for (int h = 0; h < u; h++)
                    for (int b = 0; b < live[h]; b++, r++)
                    {
                        rowHist[r] = h; rowBeam[r] = h * beam + b;
                        for (int k = 0; k < level; k++) pre[r * level + k] = prefix[(h * beam + b) * lv + k];
                    }
                var mem = memory;
                var kp = keep;
                if (rows != u || beam > 1) { mem = Ops.IndexSelect(mem, rowHist); kp = Ops.Reshape(Ops.IndexSelect(Ops.Reshape(kp, u, len), rowHist), rows, len); }
                var logits = StepLogits(pre, rows, level, mem, kp).Data;
                int vocab = Codes.VocabSizes[level];
                var nextPrefix = new int[u * beam * lv];
                var nextScore = new double[u * beam];
                var nextKeys = new long[u * beam];
                var nextLive = new int[u];
                var cand = new List<(double Score, int Row, int Code)>();
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
                        nextLive[h] = 1;
                        r++;
                        continue;
                    }
                    for (int b = 0; b < live[h]; b++, r++)
                    {
                        var row = logits.AsSpan(r * vocab, vocab);
                        int src = rowBeam[r];
                        double lse = LogSumExpAllowed(row, level, keys[src], trie);
                        if (trie)
                            foreach (int c in Codes.Children(keys[src])) cand.Add((score[src] + row[c] - lse, src, c));
                        else
                            for (int c = 0; c < vocab; c++) if (Codes.IsValid(level, c)) cand.Add((score[src] + row[c] - lse, src, c));
                    }
                    // highest score first; ties go to the smaller code so results are reproducible
                    cand.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Row != b.Row ? a.Row.CompareTo(b.Row) : a.Code.CompareTo(b.Code));
                    int keepN = Math.Min(beam, cand.Count);
                    for (int b = 0; b < keepN; b++)
                    {
                        var (s, src, c) = cand[b];
                        int dst = h * beam + b;
                        Array.Copy(prefix, src * lv, nextPrefix, dst * lv, level);
                        nextPrefix[dst * lv + level] = c;
                        nextScore[dst] = s;
                        nextKeys[dst] = Codes.Extend(keys[src], c);
                    }
                    nextLive[h] = keepN;
                }
                prefix = nextPrefix; score = nextScore; keys = nextKeys; live = nextLive;
            }
        }
        var result = new int[u * lv];
        for (int h = 0; h < u; h++) Array.Copy(prefix, h * beam * lv, result, h * lv, lv);   // beam 0 is the best
        return result;
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
