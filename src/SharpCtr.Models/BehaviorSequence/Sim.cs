using SharpCtr.Data.Batching;
using SharpCtr.Data.Config;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.BehaviorSequence;

/// <summary>
/// SIM (Pi et al. 2020), search-based interest model. The general search unit (GSU) picks the
/// top_k history items most relevant to the target: soft search = largest inner product of the
/// projected target and projected history embeddings; hard search = the most recent items of the
/// target's category. The exact search unit (ESU) is target attention over those k items
/// (scaled dot product of projected target and keys, softmax), and an MLP reads
/// [field embeddings; attended history].
/// The soft GSU score is added to the ESU logits of the selected items, so the search projection
/// learns from the click loss (the paper trains it with an auxiliary task; this is the
/// single-loss equivalent).
/// Config: embedding_dim (16), search (soft | hard), top_k (10), search_dim (16),
/// attention_dim (32), mlp ([256, 128]), activation (relu), dropout (0), fields.
/// </summary>
public sealed class Sim : CtrModel
{
    readonly FeatureEmbeddings emb;
    readonly List<string> fields;
    readonly string[] queryFields;
    readonly string sequenceName, historySource, categorySide, categoryField;
    readonly (string Name, string Source)[] sides;
    readonly bool soft;
    readonly int topK;
    readonly Linear? gsuQ, gsuK;
    readonly Linear esuQ, esuK;
    readonly float esuScale;
    readonly Mlp mlp;
    readonly int[] userColumns;   // of the MLP's input, folded once per request when scoring

    public Sim(ModelContext ctx)
    {
        var c = ctx.Config;
        var schema = ctx.Schema;
        int dim = c.GetInt("embedding_dim", 16, min: 1);
        emb = new FeatureEmbeddings(schema, dim, ctx.Rng);
        fields = ModelConfig.Fields(c, emb);
        var seq = schema.Sequence ?? throw new ConfigException($"{c.Where}: SIM needs a data set with a behaviour sequence");
        sequenceName = seq.Name;
        historySource = seq.Source;
        sides = seq.Sides.Select(x => (x.Name, x.Source)).ToArray();
        queryFields = TargetQuery.Fields(ctx, "SIM");
        soft = c.GetChoice("search", "soft", "soft", "hard") == "soft";
        if (!soft && seq.Sides.Count == 0) throw new ConfigException($"{c.Where}: hard search needs a history side field with each item's category");
        categorySide = seq.Sides.Count > 0 ? seq.Sides[0].Name : "";
        categoryField = seq.Sides.Count > 0 ? queryFields[1] : "";
        topK = c.GetInt("top_k", 10, min: 1);
        int kd = emb.SequenceWidth();
        if (soft)
        {
            int sd = c.GetInt("search_dim", 16, min: 1);
            gsuQ = new Linear(kd, sd, ctx.Rng, bias: false);
            gsuK = new Linear(kd, sd, ctx.Rng, bias: false);
        }
        int ad = c.GetInt("attention_dim", 32, min: 1);
        esuQ = new Linear(kd, ad, ctx.Rng, bias: false);
        esuK = new Linear(kd, ad, ctx.Rng, bias: false);
        esuScale = 1f / MathF.Sqrt(ad);
        mlp = new Mlp(fields.Count * dim + kd, ModelConfig.Ints(c, "mlp", [256, 128]), ctx.Rng,
            Activations.Parse(c.GetString("activation", "relu")), (float)c.GetDouble("dropout", 0, min: 0, below: 1), outputDim: 1);
        userColumns = emb.UserColumns(fields).ToArray();
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("embeddings", emb);
        if (gsuQ is not null) yield return ("gsu_q", gsuQ);
        if (gsuK is not null) yield return ("gsu_k", gsuK);
        yield return ("esu_q", esuQ);
        yield return ("esu_k", esuK);
        yield return ("mlp", mlp);
    }

    public override ModelOutput Forward(Batch b)
    {
        int n = b.Count;
        var sv = b.Sequence(sequenceName);
        int len = sv.MaxLen;
        var keys = HistoryKeys(b, sv);                                               // [B·L, K]
        var target = TargetQuery.Embed(emb, b, queryFields);                   // [B, K]

        // GSU: choose up to top_k positions per row (the choice itself carries no gradient).
        Tensor? gsuScores = null;
        if (soft)
        {
            int sd = gsuQ!.Out;
            var kp = Ops.Reshape(gsuK!.Forward(keys), n, len, sd);
            gsuScores = Ops.Sum(Ops.Mul(kp, Ops.Reshape(gsuQ.Forward(target), n, 1, sd)), 2);   // [B, L]
        }
        var selected = new int[n * topK];
        var mask = Tensor.Temp([n, topK], zero: true);
        Select(b, sv, gsuScores, selected, mask);

        // ESU: target attention over the selected keys.
        var chosen = Ops.IndexSelect(keys, selected);                                // [B·k, K]
        int ad = esuQ.Out;
        var logits = Ops.MulScalar(Ops.Sum(Ops.Mul(Ops.Reshape(esuK.Forward(chosen), n, topK, ad),
                                                   Ops.Reshape(esuQ.Forward(target), n, 1, ad)), 2), esuScale);   // [B, k]
        if (gsuScores is not null) logits = Ops.Add(logits, Ops.Reshape(Ops.IndexSelect(Ops.Reshape(gsuScores, -1, 1), selected), n, topK));
        var weights = Ops.Softmax(logits, mask);                                     // [B, k]
        int kd = keys.Shape[1];
        var pooled = Ops.Reshape(Ops.MatMul(Ops.Reshape(weights, n, 1, topK), Ops.Reshape(chosen, n, topK, kd)), n, kd);
        var parts = fields.Select(f => emb.Field(b, f)).Append(pooled).ToArray();
        return new(Ops.Reshape(mlp.Forward(Ops.Concat(parts, 1), userColumns), n));
    }

    /// <summary>Every history position's key [B·L, Dim·(1 + sides)] (padding positions are zero rows).</summary>
    Tensor HistoryKeys(Batch b, SequenceValues sv)
    {
        int rows = b.Count * sv.MaxLen;
        var parts = new List<Tensor>(1 + sides.Length) { emb.Table(historySource).Forward(sv.Items, rows) };
        foreach (var (name, source) in sides) parts.Add(emb.SideRows(source, sv.Side(name), rows, sv.SideWidth(name)));
        return parts.Count == 1 ? parts[0] : Ops.Concat(parts, 1);
    }

    /// <summary>Fills <paramref name="selected"/> (rows of the [B·L] keys) and the keep-mask for every sample.</summary>
    void Select(Batch b, SequenceValues sv, Tensor? scores, int[] selected, Tensor mask)
    {
        int len = sv.MaxLen;
        var order = new int[len];
        var value = new float[len];
        int[]? cats = soft ? null : sv.Side(categorySide);
        int catWidth = soft ? 1 : sv.SideWidth(categorySide);
        int[]? target = soft ? null : FieldIds.First(b, categoryField);
        for (int r = 0; r < b.Count; r++)
        {
            int hist = Math.Min(sv.Lengths[r], len), m = 0;
            for (int l = 0; l < hist; l++)
            {
                if (soft) { order[m] = l; value[m++] = -scores!.Data[r * len + l]; }
                else if (cats![(r * len + l) * catWidth] == target![r]) { order[m] = l; value[m++] = -l; }   // most recent first
            }
            Array.Sort(value, order, 0, m);
            int k = Math.Min(m, topK);
            for (int j = 0; j < topK; j++)
            {
                selected[r * topK + j] = r * len + (j < k ? order[j] : 0);
                mask.Data[r * topK + j] = j < k ? 1 : 0;
            }
        }
    }
}
