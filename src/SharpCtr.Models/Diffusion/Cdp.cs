using SharpCtr.Data.Batching;
using SharpCtr.Data.Config;
using SharpCtr.Tensors;
using SharpCtr.Models.BehaviorSequence;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.Diffusion;

/// <summary>
/// CDP, the contextual diffusion purifier (shared/specs/cdp.md). Stage 1: the history items in
/// the target's category are mean-pooled into x0 (a learned vector when there are none). Stage 2:
/// a collaborative condition over query × user × item (bilinear pair interactions), a context
/// condition and a scene condition, fused by a softmax gate. Stage 3: a conditional DDPM
/// denoiser purifies x0 into h (<see cref="DiffusionPurifier"/>), and an MLP over
/// [h; field embeddings] predicts the click. Aux loss "noise" = λ·L_noise.
/// Fields are found by their sources unless named: item_field (the history's source),
/// category_field (the history side's source), user_field (user_id), query_field (row.query, or
/// none: then the collaborative condition is user × item only), context_fields (row.context.*,
/// time.*), scene_fields (row.scene.*).
/// Config: embedding_dim (16), condition_dim (32), condition (full | none | no_collaborative |
/// no_context_scene | no_moe), interaction (bilinear | hadamard), empty_history (learned |
/// mean_all), gate (same | overlap), sequence (none | mean | attention), attention_units ([64, 32]),
/// attention_activation (dice), mlp ([256, 128]), activation (relu), dropout (0), h_dropout (0: dropout
/// on the purified vector before the prediction network, in training), fields, and the purifier's
/// keys (x0_norm and x0_gradient among them: <see cref="DiffusionPurifier"/>).
/// sequence: none (the spec) gives the prediction network [h; field embeddings] — the history
/// reaches it only through h, i.e. only the target category's behaviours; mean adds the whole
/// history mean-pooled (items and side fields, as DeepFM's `sequence: mean`); attention adds it
/// pooled by DIN's activation unit against the target — CDP on a DIN base, the paper's deployment
/// shape (its purified interest joins a SIM-like ranking model's target attention).
/// gate: same (the spec) keeps a behaviour whose category is the target's — the first id of each
/// when a field holds several; overlap keeps one that shares any category with the target, for
/// items with several categories (MovieLens genres: use a multi-valued history side).
/// </summary>
public sealed class Cdp : CtrModel
{
    readonly FeatureEmbeddings emb;
    readonly FieldInputs inputs;        // [field embeddings; the pooled history when sequence: mean]
    readonly ActivationUnit? historyAttention;   // sequence: attention
    readonly string[] targetKeyFields = [];
    readonly string sequenceName, historySource, gateSide, itemField, categoryField, userField;
    readonly string? queryField;
    readonly string[] contextFields, sceneFields;
    readonly string conditionMode;
    readonly bool bilinear, learnedEmpty, gateOverlap;
    readonly Linear? bQU, bQI, bUI;
    readonly Mlp? colMlp, ctxMlp, scnMlp;
    readonly Linear? gate;
    readonly Tensor? emptyHistory;
    readonly int conditionDim;
    public readonly DiffusionPurifier Purifier;
    readonly Mlp mlp;
    readonly int[] userColumns;   // of the MLP's input, folded once per request when scoring
    readonly float hDropout;
    readonly Rng? hDropoutRng;

    public Cdp(ModelContext ctx)
    {
        var c = ctx.Config;
        var schema = ctx.Schema;
        int dim = c.GetInt("embedding_dim", 16, min: 1);
        emb = new FeatureEmbeddings(schema, dim, ctx.Rng);
        inputs = new FieldInputs(emb, c, defaultSequence: "none", "attention");
        var seq = schema.Sequence ?? throw new ConfigException($"{c.Where}: CDP needs a data set with a behaviour sequence");
        if (seq.Sides.Count == 0) throw new ConfigException($"{c.Where}: CDP's category gate needs a sequence side field with each history item's category");
        sequenceName = seq.Name;
        historySource = seq.Source;
        string FieldOf(string key, string source) => c.GetOptionalString(key)
            ?? schema.Fields.FirstOrDefault(f => f.Source == source)?.Name
            ?? throw new ConfigException($"{c.Where}: no field draws ids from '{source}'; name one with '{key}'");
        itemField = FieldOf("item_field", seq.Source);
        categoryField = FieldOf("category_field", seq.Sides[0].Source);
        userField = FieldOf("user_field", "user_id");
        var catSource = schema.Field(categoryField).Source;
        gateSide = seq.Sides.FirstOrDefault(s => s.Source == catSource)?.Name
            ?? throw new ConfigException($"{c.Where}: category_field '{categoryField}' draws from '{catSource}', but no history side does");
        var q = c.GetString("query_field", schema.Fields.FirstOrDefault(f => f.Source == "row.query")?.Name ?? "none");
        queryField = q == "none" ? null : schema.Field(q).Name;
        contextFields = c.Has("context_fields") ? c.GetStringList("context_fields").ToArray()
            : schema.Fields.Where(f => f.Source.StartsWith("row.context.", StringComparison.Ordinal) || f.Source.StartsWith("time.", StringComparison.Ordinal)).Select(f => f.Name).ToArray();
        sceneFields = c.Has("scene_fields") ? c.GetStringList("scene_fields").ToArray()
            : schema.Fields.Where(f => f.Source.StartsWith("row.scene.", StringComparison.Ordinal)).Select(f => f.Name).ToArray();
        foreach (var f in contextFields.Concat(sceneFields)) schema.Field(f);   // unknown names fail here, with the schema's message

        conditionMode = c.GetChoice("condition", "full", "full", "none", "no_collaborative", "no_context_scene", "no_moe");
        bilinear = c.GetChoice("interaction", "bilinear", "bilinear", "hadamard") == "bilinear";
        learnedEmpty = c.GetChoice("empty_history", "learned", "learned", "mean_all") == "learned";
        gateOverlap = c.GetChoice("gate", "same", "same", "overlap") == "overlap";
        conditionDim = c.GetInt("condition_dim", 32, min: 1);

        bool useCol = conditionMode is "full" or "no_context_scene" or "no_moe";
        bool useCtxScn = conditionMode is "full" or "no_collaborative" or "no_moe";
        int experts = 0;
        if (useCol)
        {
            int pairs = queryField is null ? 1 : 3;
            if (bilinear)
            {
                bUI = new Linear(dim, dim, ctx.Rng, bias: false);
                if (queryField is not null) { bQU = new Linear(dim, dim, ctx.Rng, bias: false); bQI = new Linear(dim, dim, ctx.Rng, bias: false); }
            }
            colMlp = new Mlp((pairs == 1 ? 2 : 3) * dim + pairs * dim, [conditionDim], ctx.Rng, outputDim: conditionDim);
            experts++;
        }
        if (useCtxScn && contextFields.Length > 0) { ctxMlp = new Mlp(contextFields.Length * dim, [conditionDim], ctx.Rng, outputDim: conditionDim); experts++; }
        if (useCtxScn && sceneFields.Length > 0) { scnMlp = new Mlp(sceneFields.Length * dim, [conditionDim], ctx.Rng, outputDim: conditionDim); experts++; }
        if (conditionMode != "none" && experts == 0)
            throw new ConfigException($"{c.Where}: condition '{conditionMode}' leaves no condition on this data set (no query/context/scene fields?)");
        if (conditionMode is "full" or "no_collaborative" && experts > 1) gate = new Linear(experts * conditionDim, experts, ctx.Rng);
        if (learnedEmpty)
        {
            emptyHistory = Tensor.Parameter("empty_history", 1, dim);
            Init.Normal(emptyHistory, ctx.Rng, 0.1f);
        }
        Purifier = new DiffusionPurifier(c, dim, conditionMode == "none" ? 0 : conditionDim, ctx.Rng);
        if (inputs.Sequence == "attention")
        {
            targetKeyFields = TargetQuery.Fields(ctx, "CDP");
            historyAttention = ActivationUnit.FromConfig(c, emb.SequenceWidth(), ctx.Rng);
        }
        mlp = new Mlp(dim + inputs.Count * dim + (historyAttention is null ? 0 : emb.SequenceWidth()), ModelConfig.Ints(c, "mlp", [256, 128]), ctx.Rng,
            Activations.Parse(c.GetString("activation", "relu")), (float)c.GetDouble("dropout", 0, min: 0, below: 1), outputDim: 1);
        userColumns = [.. inputs.UserColumns.Select(column => dim + column)];   // after h, which depends on the candidate
        hDropout = (float)c.GetDouble("h_dropout", 0, min: 0, below: 1);
        // Checked again as float: a value just below 1 (0.99999999999) rounds to 1f, a keep-probability of 0.
        if (hDropout is < 0 or >= 1) throw new ConfigException($"{c.Where}: h_dropout must be in [0, 1), got {hDropout}");
        if (hDropout > 0) hDropoutRng = ctx.Rng.Fork();   // forked last, and only when used: other configs initialise as before
    }

    protected override IEnumerable<(string, Rng)> LocalRngs()
    {
        if (hDropoutRng is not null) yield return ("h_dropout", hDropoutRng);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters()
    {
        if (emptyHistory is not null) yield return ("empty_history", emptyHistory);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("embeddings", emb);
        if (bQU is not null) yield return ("bilinear_qu", bQU);
        if (bQI is not null) yield return ("bilinear_qi", bQI);
        if (bUI is not null) yield return ("bilinear_ui", bUI);
        if (colMlp is not null) yield return ("collaborative", colMlp);
        if (ctxMlp is not null) yield return ("context", ctxMlp);
        if (scnMlp is not null) yield return ("scene", scnMlp);
        if (gate is not null) yield return ("gate", gate);
        yield return ("purifier", Purifier);
        if (historyAttention is not null) yield return ("history_attention", historyAttention);
        yield return ("mlp", mlp);
    }

    public override ModelOutput Forward(Batch b)
    {
        var (x0, condition) = Inputs(b);
        var (h, noiseLoss) = Purifier.Purify(x0, condition);
        if (Training && hDropoutRng is not null) h = Ops.Dropout(h, hDropout, hDropoutRng);
        var parts = new List<Tensor>(inputs.Count + 2) { h };
        parts.AddRange(inputs.Embed(b));
        if (historyAttention is not null) parts.Add(historyAttention.Pool(emb.PackedSequence(b), TargetQuery.Embed(emb, b, targetKeyFields), Training));
        var output = new ModelOutput(Ops.Reshape(mlp.Forward(Ops.Concat(parts, 1), userColumns), b.Count));
        if (noiseLoss is not null) output.AuxLosses.Add(("noise", noiseLoss));
        return output;
    }

    /// <summary>The observed interest x0 and the purified h of every row (inference mode; for analysis).</summary>
    public (float[] X0, float[] H) Purify(Batch b)
    {
        bool was = Training;
        Eval();
        try
        {
            using (Tape.Inference())
            {
                var (x0, condition) = Inputs(b);
                return (x0.ToArray(), Purifier.Purify(x0, condition).H.ToArray());
            }
        }
        finally { Train(was); }
    }

    (Tensor X0, Tensor? Condition) Inputs(Batch b) => (ObservedInterest(b), Condition(b));

    /// <summary>Stage 1: mean of the history items whose category is the target's, [B, D].</summary>
    Tensor ObservedInterest(Batch b)
    {
        int n = b.Count;
        var sv = b.Sequence(sequenceName);
        var cats = sv.Side(gateSide);
        int w = sv.SideWidth(gateSide), len = sv.MaxLen;
        var target = FieldIds.First(b, categoryField);
        var targetAll = gateOverlap && b.Multi.TryGetValue(categoryField, out var multi) ? multi : null;
        var ids = new int[n * len];
        var lengths = new int[n];
        var empty = learnedEmpty ? Tensor.Temp([n, 1], zero: true) : null;
        for (int r = 0; r < n; r++)
        {
            int hist = Math.Min(sv.Lengths[r], len), kept = 0;
            for (int l = 0; l < hist; l++)
                if (gateOverlap ? SharesCategory(cats.AsSpan((r * len + l) * w, w), targetAll, target, r) : cats[(r * len + l) * w] == target[r])
                    ids[r * len + kept++] = sv.Items[r * len + l];
            if (kept == 0 && !learnedEmpty)
                for (int l = 0; l < hist; l++) ids[r * len + kept++] = sv.Items[r * len + l];
            if (kept == 0 && empty is not null) empty.Data[r] = 1;
            lengths[r] = kept;
        }
        var pooled = Ops.EmbeddingBag(emb.Table(historySource).Weight, ids, n, len, lengths, mean: true);
        return Purifier.Observed(pooled, empty is null ? null : Ops.Mul(empty, emptyHistory!));
    }

    /// <summary>Whether a behaviour's categories (0 = none) include one of row r's target categories.</summary>
    static bool SharesCategory(ReadOnlySpan<int> behaviour, MultiValues? targetAll, int[] targetFirst, int r)
    {
        var targets = targetAll is null ? targetFirst.AsSpan(r, 1) : targetAll.Ids.AsSpan(r * targetAll.Width, targetAll.Lengths[r]);
        foreach (int c in behaviour)
            if (c != 0 && targets.Contains(c)) return true;
        return false;
    }

    /// <summary>Stage 2: the fused condition [B, C], or null for the no-condition ablation.</summary>
    Tensor? Condition(Batch b)
    {
        if (conditionMode == "none") return null;
        var experts = new List<Tensor>(3);
        if (colMlp is not null) experts.Add(colMlp.Forward(CollaborativeInput(b)));
        if (ctxMlp is not null) experts.Add(RequestLevel(b, contextFields, ctxMlp));
        if (scnMlp is not null) experts.Add(RequestLevel(b, sceneFields, scnMlp));
        if (experts.Count == 1) return experts[0];
        if (gate is null)
        {
            var sum = experts[0];
            for (int k = 1; k < experts.Count; k++) sum = Ops.Add(sum, experts[k]);
            return Ops.MulScalar(sum, 1f / experts.Count);
        }
        var g = Ops.Softmax(gate.Forward(Ops.Concat(experts, 1)));            // [B, K]
        Tensor? fused = null;
        for (int k = 0; k < experts.Count; k++)
        {
            var term = Ops.Mul(experts[k], Ops.Slice(g, 1, k, 1));
            fused = fused is null ? term : Ops.Add(fused, term);
        }
        return fused;
    }

    Tensor CollaborativeInput(Batch b)
    {
        var u = emb.Field(b, userField);
        var i = emb.Field(b, itemField);
        if (queryField is null) return Ops.Concat([u, i, Pair(bUI, u, i)], 1);
        var q = emb.Field(b, queryField);
        return Ops.Concat([q, u, i, Pair(bQU, q, u), Pair(bQI, q, i), Pair(bUI, u, i)], 1);
    }

    /// <summary>B(a, b) = (a·W_ab) ⊙ b, or a ⊙ b (interaction: hadamard).</summary>
    static Tensor Pair(Linear? w, Tensor a, Tensor b) => Ops.Mul(w is null ? a : w.Forward(a), b);

    /// <summary>
    /// A condition that does not depend on the candidate: consecutive rows with the same field ids
    /// (the candidates of one request) go through the MLP once.
    /// </summary>
    Tensor RequestLevel(Batch b, string[] names, Mlp net)
    {
        var input = Ops.Concat(names.Select(f => emb.Field(b, f)).ToArray(), 1);
        var (unique, rowOf) = DistinctRuns(b, names);
        if (unique is null) return net.Forward(input);
        return Ops.IndexSelect(net.Forward(Ops.IndexSelect(input, unique)), rowOf);
    }

    /// <summary>Runs of consecutive rows equal on the given categorical fields: (first row of each run, run of each row), or (null, …) when every run is one row.</summary>
    static (int[]? Unique, int[] RowOf) DistinctRuns(Batch b, string[] names)
    {
        int n = b.Count, runs = 0;
        var rowOf = new int[n];
        var arrays = new int[names.Length][];
        for (int k = 0; k < names.Length; k++)
            if (!b.Categorical.TryGetValue(names[k], out arrays[k]!)) return (null, rowOf);
        for (int r = 0; r < n; r++)
        {
            bool same = r > 0;
            for (int k = 0; same && k < arrays.Length; k++) same = arrays[k][r] == arrays[k][r - 1];
            rowOf[r] = same ? rowOf[r - 1] : runs++;
        }
        if (runs == n) return (null, rowOf);
        var unique = new int[runs];
        for (int r = n - 1; r >= 0; r--) unique[rowOf[r]] = r;
        return (unique, rowOf);
    }
}
