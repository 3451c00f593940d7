using SharpCtr.Data.Batching;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.FeatureInteraction;

/// <summary>
/// FiGNN (Li et al., CIKM 2019): fields are nodes of a fully connected graph. Edge weights come
/// from attention over the initial node states, A_ij = softmax_j(LeakyReLU(a·[e_i; e_j])) with
/// self-loops removed; each of T steps aggregates m_i = W_in,i Σ_j A_ij W_out,j h_j (a transform per
/// field on each side of an edge), updates h_i = GRU(m_i, h_i) + e_i (residual to the embedding),
/// and the logit is the attentional sum Σ_i (w·h_i) (u·h_i) of per-node predictions and weights.
/// Config: steps (3), embedding_dim (16), fields, sequence.
/// Deviations: the GRU is written with the engine's primitive ops (one shared cell, all nodes as
/// rows); the attention is computed once from the embeddings (as the paper's graph is static
/// within a sample). The per-node score weights u·h_i are used raw, without a squashing function.
/// </summary>
public sealed class FiGnn : CtrModel
{
    readonly FieldInputs factors;
    readonly int steps, dim, fields;
    readonly Linear attnSource, attnTarget;
    readonly Tensor wOut, wIn;                 // [F, D, D] per-field edge transforms
    readonly Tensor gruIh, gruHh, gruBih, gruBhh;
    readonly Linear nodeScore, nodeWeight;
    readonly Tensor noSelfLoops;

    public FiGnn(ModelContext ctx)
    {
        var c = ctx.Config;
        dim = c.GetInt("embedding_dim", 16, min: 1);
        steps = c.GetInt("steps", 3, min: 1);
        factors = new FieldInputs(new FeatureEmbeddings(ctx.Schema, dim, ctx.Rng), c);
        fields = factors.Count;
        attnSource = new Linear(dim, 1, ctx.Rng, bias: false);
        attnTarget = new Linear(dim, 1, ctx.Rng, bias: false);
        wOut = Tensor.Parameter("w_out", fields, dim, dim);
        wIn = Tensor.Parameter("w_in", fields, dim, dim);
        float xa = MathF.Sqrt(3f / dim);
        Init.Uniform(wOut, ctx.Rng, -xa, xa);
        Init.Uniform(wIn, ctx.Rng, -xa, xa);
        gruIh = Tensor.Parameter("gru.w_ih", dim, 3 * dim);
        gruHh = Tensor.Parameter("gru.w_hh", dim, 3 * dim);
        gruBih = Tensor.Parameter("gru.b_ih", 3 * dim);
        gruBhh = Tensor.Parameter("gru.b_hh", 3 * dim);
        float g = 1f / MathF.Sqrt(dim);
        foreach (var w in new[] { gruIh, gruHh, gruBih, gruBhh }) Init.Uniform(w, ctx.Rng, -g, g);
        nodeScore = new Linear(dim, 1, ctx.Rng);
        nodeWeight = new Linear(dim, 1, ctx.Rng);
        var keep = new float[fields * fields];
        for (int i = 0; i < fields; i++)
            for (int j = 0; j < fields; j++) keep[i * fields + j] = i == j ? 0f : 1f;
        noSelfLoops = Tensor.FromArray(keep, fields, fields);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters()
    {
        yield return ("w_out", wOut);
        yield return ("w_in", wIn);
        yield return ("gru.w_ih", gruIh);
        yield return ("gru.w_hh", gruHh);
        yield return ("gru.b_ih", gruBih);
        yield return ("gru.b_hh", gruBhh);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("factors", factors.Embeddings);
        yield return ("attn_source", attnSource);
        yield return ("attn_target", attnTarget);
        yield return ("node_score", nodeScore);
        yield return ("node_weight", nodeWeight);
    }

    public override ModelOutput Forward(Batch b)
    {
        int n = b.Count;
        var e = FactorizationMachine.Stack(factors, b);                                    // [B, F, D]
        var scores = Ops.LeakyRelu(Ops.Add(attnSource.Forward(e), Ops.Transpose(attnTarget.Forward(e))));   // [B, F, F]
        var adjacency = Ops.Softmax(scores, noSelfLoops);
        var h = e;
        for (int t = 0; t < steps; t++)
        {
            var sent = PerField(h, wOut, n);
            var message = PerField(Ops.MatMul(adjacency, sent), wIn, n);                  // [B, F, D]
            h = Ops.Add(GruCell(Ops.Reshape(message, n * fields, dim), Ops.Reshape(h, n * fields, dim)), Ops.Reshape(e, n * fields, dim));
            h = Ops.Reshape(h, n, fields, dim);
        }
        var logit = Ops.Sum(Ops.Mul(nodeScore.Forward(h), nodeWeight.Forward(h)), 1);      // [B, 1]
        return new(Ops.Reshape(logit, n));
    }

    /// <summary>x_f · W_f for every field f: [B, F, D] with W [F, D, D] as one batched GEMM.</summary>
    Tensor PerField(Tensor x, Tensor w, int n) =>
        Ops.Permute(Ops.MatMul(Ops.Permute(x, 1, 0, 2), w), 1, 0, 2);

    /// <summary>PyTorch's GRUCell: x, h [N, D] → h'.</summary>
    Tensor GruCell(Tensor x, Tensor h)
    {
        var gi = Ops.Split(Ops.Add(Ops.MatMul(x, gruIh), gruBih), 1, dim, dim, dim);
        var gh = Ops.Split(Ops.Add(Ops.MatMul(h, gruHh), gruBhh), 1, dim, dim, dim);
        var r = Ops.Sigmoid(Ops.Add(gi[0], gh[0]));
        var z = Ops.Sigmoid(Ops.Add(gi[1], gh[1]));
        var candidate = Ops.Tanh(Ops.Add(gi[2], Ops.Mul(r, gh[2])));
        return Ops.Add(candidate, Ops.Mul(z, Ops.Sub(h, candidate)));                    // (1−z)·n + z·h
    }
}
