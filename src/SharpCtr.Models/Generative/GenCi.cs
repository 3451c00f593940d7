using System.Globalization;
using SharpCtr.Data.Batching;
using SharpCtr.Data.Config;
using SharpCtr.Models.FeatureInteraction;
using SharpCtr.Tensors;
using SharpCtr.Tensors.IO;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.Generative;

/// <summary>
/// GenCI (generative cohort-based intent): a T5 encoder–decoder reads the history as semantic-ID
/// tokens; its encoder output at the last real token is the long-term intent H_LTI; it generates
/// the next item's semantic ID from the history alone, whose cohorts (items sharing a code) are
/// mean-pooled, refined against the history and attended by the candidate (H_STI); an MLP reads
/// [H_LTI; H_STI; field embeddings; the history's items (and side fields) mean-pooled — the
/// authors' `item_seq` field]. Training adds μ·L_NTP (teacher-forced next-item codes) and
/// η·L_SR (self-regularisation towards a DeepFM, co-trained by default or a frozen teacher).
/// Encoding and generation depend on the history only: they run once per distinct history in a
/// batch (consecutive samples sharing one, as a ranking request's candidates do).
/// Defaults follow the authors' implementation (see specs/genci.md section 6).
/// Config: embedding_dim (16), d_model (64), d_ff (64), heads (8), head_dim (32),
/// encoder_layers (2), decoder_layers (3), t5_dropout (0), max_history (50), semantic_fields
/// (fields with source item.semantic_id.*), cohort_levels (3), cohorts (level | prefix), beam (1),
/// trie (false), intent (hcaim | target-intent | intent-mean), cohort_heads (2),
/// cohort_dropout (0.2), mlp ([256, 256, 256]), activation (relu), dropout (0.1), fields,
/// sequence (mean | none: the pooled history as a field of the MLP),
/// mu (1), eta (1), ntp (all | positives), sr (cotrained | frozen | none), sr_embedding_dim (16),
/// sr_mlp ([128, 128, 128]), sr_dropout (0.3), sr_checkpoint (frozen teacher weights),
/// st_intent (true), lt_intent (true).
/// </summary>
public sealed class GenCi : CtrModel
{
    readonly FeatureEmbeddings emb;
    readonly List<string> fields;
    readonly string itemField, sequenceName;
    SemanticCodes codes;
    CohortIndex cohorts;
    // The items' codes as a buffer, so checkpoints and serving bundles carry them: at serving time
    // the schema has no rows to read them from (SyncCodes rebuilds codes and cohorts from it).
    readonly Tensor codeTable;
    readonly SemanticIdGenerator generator;
    readonly Embedding items;           // cohort and target embeddings, width d_model (a separate table, as the authors')
    readonly CohortIntent intent;
    readonly Mlp mlp;
    readonly int[] userColumns;   // of the MLP's input, folded once per request when scoring
    readonly DeepFm? srModel;           // co-trained, part of this module
    readonly DeepFm? teacher;           // frozen, not a parameter of this model
    readonly int maxHistory, beam;
    readonly bool trie, useSt, useLt, ntpPositivesOnly, poolSequence;
    readonly float mu, eta;
    readonly string srMode;

    public GenCi(ModelContext ctx)
    {
        var c = ctx.Config;
        var schema = ctx.Schema;
        var seq = schema.Sequence ?? throw new ConfigException($"{c.Where}: GenCI needs a data set with a behaviour sequence");
        sequenceName = seq.Name;
        itemField = schema.Fields.FirstOrDefault(f => f.Source == seq.Source && f.Kind == "categorical")?.Name
            ?? throw new ConfigException($"{c.Where}: no categorical target field draws ids from '{seq.Source}', which the history uses");
        var semanticFields = c.Has("semantic_fields") ? c.GetStringList("semantic_fields")
            : schema.Fields.Where(f => f.Source.StartsWith("item.semantic_id.", StringComparison.Ordinal))
                .OrderBy(f => int.Parse(f.Source["item.semantic_id.".Length..], CultureInfo.InvariantCulture)).Select(f => f.Name).ToList();
        codes = SemanticCodes.FromSchema(schema, itemField, semanticFields, c.Where);

        int dim = c.GetInt("embedding_dim", 16, min: 1), dModel = c.GetInt("d_model", 64, min: 1);
        emb = new FeatureEmbeddings(schema, dim, ctx.Rng);
        fields = c.Has("fields") ? c.GetStringList("fields") : emb.FieldNames.Where(f => !semanticFields.Contains(f)).ToList();
        generator = new SemanticIdGenerator(codes, dModel, c.GetInt("heads", 8, min: 1), c.GetInt("head_dim", 32, min: 1), c.GetInt("d_ff", 64, min: 1),
            c.GetInt("encoder_layers", 2, min: 1), c.GetInt("decoder_layers", 3, min: 1), (float)c.GetDouble("t5_dropout", 0, min: 0, below: 1), ctx.Rng);
        cohorts = new CohortIndex(codes, c.GetInt("cohort_levels", Math.Min(3, codes.Levels), min: 1), c.GetChoice("cohorts", "level", "level", "prefix") == "prefix");
        codeTable = Tensor.Zeros(codes.ItemVocab, codes.Levels);
        for (int item = 0; item < codes.ItemVocab; item++)
            for (int l = 0; l < codes.Levels; l++) codeTable.Data[item * codes.Levels + l] = item < 2 ? 0 : codes.Code(item, l);
        items = new Embedding(codes.ItemVocab, dModel, ctx.Rng, paddingIdx: 0, std: 1f / MathF.Sqrt(dModel), sparse: false);
        var variant = c.GetChoice("intent", "hcaim", "hcaim", "target-intent", "intent-mean") switch
        {
            "target-intent" => IntentVariant.TargetIntent,
            "intent-mean" => IntentVariant.IntentMean,
            _ => IntentVariant.Hcaim,
        };
        int cohortHeads = c.GetInt("cohort_heads", 2, min: 1);
        if (dModel % cohortHeads != 0)
            throw new Data.Config.ConfigException($"{c.Where}: d_model {dModel} is not divisible by cohort_heads {cohortHeads} (the cohort attention splits d_model over its heads)");
        intent = new CohortIntent(dModel, cohortHeads, (float)c.GetDouble("cohort_dropout", 0.2, min: 0, below: 1), variant, ctx.Rng);
        maxHistory = c.GetInt("max_history", 50, min: 1);
        beam = c.GetInt("beam", 1, min: 1);
        trie = c.GetBool("trie", false);
        useSt = c.GetBool("st_intent", true);
        useLt = c.GetBool("lt_intent", true);
        mu = (float)c.GetDouble("mu", 1, min: 0);
        eta = (float)c.GetDouble("eta", 1, min: 0);
        ntpPositivesOnly = c.GetChoice("ntp", "all", "all", "positives") == "positives";
        // The authors' MovieLens fields include item_seq: the history enters the MLP pooled, as in
        // their DeepFM and ours, besides through the encoder (H_LTI) and the cohorts (H_STI).
        poolSequence = c.GetChoice("sequence", "mean", "mean", "none") == "mean" && emb.HasSequence;
        int pooled = poolSequence ? 1 + emb.SequenceSideCount : 0;
        int input = (fields.Count + pooled) * dim + (useLt ? dModel : 0) + (useSt ? dModel : 0);
        mlp = new Mlp(input, ModelConfig.Ints(c, "mlp", [256, 256, 256]), ctx.Rng,
            Activations.Parse(c.GetString("activation", "relu")), (float)c.GetDouble("dropout", 0.1, min: 0, below: 1), outputDim: 1);
        // H_LTI, the user's fields and the pooled history are the request's; H_STI attends with the candidate
        int fieldStart = (useLt ? dModel : 0) + (useSt ? dModel : 0);
        userColumns = [.. useLt ? Enumerable.Range(0, dModel) : [], .. emb.UserColumns(fields, fieldStart),
            .. poolSequence ? Enumerable.Range(fieldStart + fields.Count * dim, pooled * dim) : []];

        srMode = c.GetChoice("sr", "cotrained", "cotrained", "frozen", "none");
        if (srMode != "none")
        {
            var yaml = $"embedding_dim: {c.GetInt("sr_embedding_dim", 16, min: 1)}\nmlp: [{string.Join(", ", ModelConfig.Ints(c, "sr_mlp", [128, 128, 128]))}]\n" +
                       $"dropout: {c.GetDouble("sr_dropout", 0.3, min: 0, below: 1).ToString(CultureInfo.InvariantCulture)}\nfields: [{string.Join(", ", fields)}]\n";
            var dfmConfig = ConfigLoader.LoadText(yaml, $"{c.Where} (self-regularisation DeepFM)");
            var dfm = new DeepFm(new ModelContext(schema, dfmConfig, ctx.Rng.Fork()));
            dfmConfig.Validate();
            if (srMode == "cotrained") srModel = dfm;
            else
            {
                var path = c.GetString("sr_checkpoint");
                if (!File.Exists(path)) path = Path.Combine(c.BaseDirectory, path);
                if (!File.Exists(path)) throw new ConfigException($"{c.Where}: sr_checkpoint '{c.GetString("sr_checkpoint")}' not found (looked in the working directory and {c.BaseDirectory})");
                HashSet<string> inFile;
                using (var file = SafeTensorsFile.Open(path)) inFile = file.Entries.Keys.ToHashSet(StringComparer.Ordinal);
                var ps = new List<Tensor>();
                foreach (var (name, p) in dfm.Parameters())
                {
                    p.Name = name;
                    // a teacher trained on data.yaml has no tables for the semantic-ID fields (it never saw them)
                    if (inFile.Contains(name) || !name.Contains("semantic_id", StringComparison.Ordinal)) ps.Add(p);
                }
                Checkpoint.Load(path, ps);
                dfm.Eval();
                teacher = dfm;
            }
        }
        else
        {
            // SR switched off (the w/o-SR ablation over genci.yaml): its settings stay valid keys, unused
            c.GetString("sr_checkpoint", ""); c.GetInt("sr_embedding_dim", 16, min: 1); ModelConfig.Ints(c, "sr_mlp", [128, 128, 128]); c.GetDouble("sr_dropout", 0.3, min: 0, below: 1);
        }
    }

    protected override IEnumerable<(string, Tensor)> LocalBuffers() { yield return ("semantic_codes", codeTable); }

    /// <summary>After a checkpoint or bundle replaced the code buffer, rebuild the code tables, the trie and the cohorts from it.</summary>
    void SyncCodes()
    {
        if (codes.Matches(codeTable.Span)) return;
        var byItem = new int[codeTable.Size];
        // the buffer is rewritten as the codes' exact float bits (a −0 would otherwise never match and rebuild every batch)
        for (int i = 0; i < byItem.Length; i++) codeTable.Data[i] = byItem[i] = (int)codeTable.Data[i];
        codes = new SemanticCodes(codes.ItemVocab, codes.VocabSizes, byItem);
        cohorts = new CohortIndex(codes, cohorts.Levels, cohorts.Prefix);
        generator.Codes = codes;
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("embeddings", emb);
        yield return ("generator", generator);
        yield return ("items", items);
        yield return ("intent", intent);
        yield return ("mlp", mlp);
        if (srModel is not null) yield return ("sr_deepfm", srModel);
    }

    /// <summary>How many codes generation produces: the cohort levels, or every level when it follows the trie to an existing item.</summary>
    public int GeneratedLevels => trie ? codes.Levels : cohorts.Levels;

    /// <summary>The generative module (tests: its cached generation against plain decoding).</summary>
    public SemanticIdGenerator Generator => generator;

    /// <summary>The semantic codes of all items (tests, reports).</summary>
    public SemanticCodes Codes => codes;
    public CohortIndex Cohorts => cohorts;

    /// <summary>
    /// What depends on the history only, computed once per distinct history of a batch (a request's
    /// history part): the encoder output, its decoder memory, the generated ID and its cohorts, the
    /// long-term intent [U, D] and what the candidates attend to (<see cref="CohortIntent.Summarise"/>).
    /// </summary>
    public sealed record HistoryIntent(int Histories, int Length, int[] RowHistory, int[] FirstRow, Tensor Encoded, Tensor Keep,
        int[] LastToken, T5DecoderCache? Memory, int[]? Generated, int[][]? CohortIds, Tensor? LongTermIntent, Tensor? CohortSummary, Tensor? CohortKeep);

    /// <summary>
    /// Encodes each distinct history of the batch (consecutive rows with the same history share
    /// it) and, when the short-term intent is used, generates its semantic ID and reads its cohorts.
    /// Nothing here reads a sample's own target.
    /// </summary>
    public HistoryIntent EncodeHistories(Batch b)
    {
        SyncCodes();
        int n = b.Count, lv = codes.Levels;
        var sv = b.Sequence(sequenceName);
        var rowHistory = new int[n];
        var firstRows = new List<int>();
        int longest = 0;
        for (int r = 0; r < n; r++)
        {
            if (r > 0 && SameHistory(sv, r - 1, r)) { rowHistory[r] = rowHistory[r - 1]; continue; }
            rowHistory[r] = firstRows.Count;
            firstRows.Add(r);
            longest = Math.Max(longest, Window(sv, r));
        }
        // Shapes are rounded to a few classes: the tensor pool keeps one bucket per exact size, and
        // a new [histories, tokens] shape every batch would grow it without bound.
        int u = FeatureEmbeddings.SizeClass(firstRows.Count, fractionBits: 2),
            len = Math.Max(1, Math.Min(maxHistory, (longest + 9) / 10 * 10) * lv);
        var tokenIds = new int[u * len];
        var keep = new float[u * len];
        var last = new int[u];
        for (int h = 0; h < firstRows.Count; h++)
        {
            int r = firstRows[h], count = Window(sv, r), start = Math.Min(sv.Lengths[r], sv.MaxLen) - count;   // the most recent items
            for (int i = 0; i < count; i++)
            {
                int item = sv.Items[r * sv.MaxLen + start + i];
                for (int l = 0; l < lv; l++)
                {
                    int t = h * len + i * lv + l;
                    tokenIds[t] = generator.Token(l, codes.Code(item, l));
                    keep[t] = 1;
                }
            }
            last[h] = h * len + Math.Max(0, count * lv - 1);
        }
        var keepT = Tensor.FromArray(keep, u, len);
        var encoded = generator.Encode(tokenIds, u, len, keepT);
        int d = generator.DModel;
        var lti = useLt ? Ops.IndexSelect(Ops.Reshape(encoded, u * len, d), last) : null;     // [U, D]
        // the decoder's memory, projected once: generation and the NTP loss both read it
        bool ntp = Training && Tape.IsRecording && mu > 0;
        var memory = useSt || ntp ? generator.ProjectMemory(encoded, keepT) : null;
        if (!useSt) return new HistoryIntent(u, len, rowHistory, firstRows.ToArray(), encoded, keepT, last, memory, null, null, lti, null, null);

        var generated = generator.Generate(memory!, beam, trie, GeneratedLevels);
        int levels = cohorts.Levels;
        var cohortIds = new int[levels][];
        var perLevel = new Tensor[levels];
        var cohortKeep = new float[u * levels];
        for (int l = 0; l < levels; l++)
        {
            cohortIds[l] = new int[u];
            for (int h = 0; h < u; h++)
            {
                cohortIds[l][h] = cohorts.CohortOf(l, generated.AsSpan(h * lv, lv));
                cohortKeep[h * levels + l] = cohortIds[l][h] > 0 ? 1 : 0;
            }
            perLevel[l] = Ops.Reshape(cohorts.Means(items.Weight, l, cohortIds[l]), u, 1, d);
        }
        var ec = levels == 1 ? perLevel[0] : Ops.Concat(perLevel, 1);                          // [U, N, D]
        var keepC = Tensor.FromArray(cohortKeep, u, levels);
        var summary = intent.Summarise(ec, keepC, encoded, keepT);
        return new HistoryIntent(u, len, rowHistory, firstRows.ToArray(), encoded, keepT, last, memory, generated, cohortIds, lti, summary, keepC);
    }

    int Window(SequenceValues sv, int r) => Math.Min(Math.Min(sv.Lengths[r], sv.MaxLen), maxHistory);

    bool SameHistory(SequenceValues sv, int a, int c)
    {
        int la = Window(sv, a);
        if (la != Window(sv, c)) return false;
        int ea = Math.Min(sv.Lengths[a], sv.MaxLen), ec = Math.Min(sv.Lengths[c], sv.MaxLen);
        return sv.Items.AsSpan(a * sv.MaxLen + ea - la, la).SequenceEqual(sv.Items.AsSpan(c * sv.MaxLen + ec - la, la));
    }

    /// <summary>The per-candidate part: logits [B] of the batch's rows from their histories' <see cref="HistoryIntent"/>.</summary>
    public Tensor ScoreCandidates(Batch b, HistoryIntent hi)
    {
        int n = b.Count;
        var parts = new List<Tensor>(fields.Count + 4);
        if (useLt) parts.Add(Ops.IndexSelect(hi.LongTermIntent!, hi.RowHistory));
        if (useSt) parts.Add(intent.Attend(hi.CohortSummary!, hi.CohortKeep!, hi.RowHistory, items.Forward(b.Ids(itemField), n)));
        foreach (var f in fields) parts.Add(emb.Field(b, f));
        if (poolSequence) parts.AddRange(emb.PooledSequence(b));
        return Ops.Reshape(mlp.Forward(Ops.Concat(parts, 1), userColumns), n);
    }

    /// <summary>For each row: H_LTI of its history, H_STI for its target, and the target item's embedding — each [B, D] (the paper's Figure 4).</summary>
    public (Tensor LongTerm, Tensor ShortTerm, Tensor Target) Intents(Batch b)
    {
        if (!useLt || !useSt) throw new InvalidOperationException("GenCI's intents need both the long- and the short-term branch (lt_intent and st_intent on)");
        var hi = EncodeHistories(b);
        var target = items.Forward(b.Ids(itemField), b.Count);
        var shortTerm = intent.Attend(hi.CohortSummary!, hi.CohortKeep!, hi.RowHistory, target);
        return (Ops.IndexSelect(hi.LongTermIntent!, hi.RowHistory), shortTerm, target);
    }

    public override ModelOutput Forward(Batch b)
    {
        int n = b.Count;
        var hi = EncodeHistories(b);
        var logit = ScoreCandidates(b, hi);
        var targetItems = b.Ids(itemField);
        var output = new ModelOutput(logit);
        if (!Training || !Tape.IsRecording) return output;

        if (mu > 0)
        {
            int lv = codes.Levels;
            var targetCodes = new int[n * lv];
            bool[]? use = ntpPositivesOnly ? new bool[n] : null;
            for (int r = 0; r < n; r++)
            {
                for (int l = 0; l < lv; l++) targetCodes[r * lv + l] = codes.Code(targetItems[r], l);
                if (use is not null) use[r] = b.Labels[r] > 0.5f;
            }
            var ntp = generator.NextItemLoss(hi.Memory!, hi.RowHistory, targetCodes, use);
            output.AuxLosses.Add(("ntp", Ops.MulScalar(ntp, mu)));
        }
        if (eta > 0 && srModel is not null)
        {
            var dfm = srModel.Forward(b).Logits;
            var soft = new float[n];
            for (int r = 0; r < n; r++) soft[r] = 1f / (1f + MathF.Exp(-dfm.Data[r]));   // a fixed soft label: no gradient into the DeepFM through it
            var sr = Ops.Add(Ops.BceWithLogits(dfm, Tensor.FromArray(b.Labels, n)), Ops.BceWithLogits(logit, Tensor.FromArray(soft, n)));
            output.AuxLosses.Add(("sr", Ops.MulScalar(sr, eta)));
        }
        else if (eta > 0 && teacher is not null)
        {
            var target = new float[n];
            using (Tape.Inference()) teacher.Forward(b).Logits.Data.AsSpan(0, n).CopyTo(target);
            output.AuxLosses.Add(("sr", Ops.MulScalar(Ops.Mse(logit, Tensor.FromArray(target, n)), eta)));
        }
        return output;
    }
}
