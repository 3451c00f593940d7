using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.Generative;

/// <summary>How GenCI turns cohort embeddings into the short-term intent (the paper's Figure 3 variants).</summary>
public enum IntentVariant { Hcaim, TargetIntent, IntentMean }

/// <summary>
/// Hierarchical candidate-aware intent modeling. HCAIM: the cohorts attend to the encoded
/// history (refinement, once per history), then the target item attends to the refined cohorts
/// (per candidate). One multi-head attention serves both steps, as in the authors' code.
/// Target-Intent skips the refinement; Intent-Mean averages the cohorts and ignores the target.
/// </summary>
public sealed class CohortIntent : Module
{
    public readonly IntentVariant Variant;
    readonly MultiHeadAttention attention;

    public CohortIntent(int dModel, int heads, float dropout, IntentVariant variant, Rng rng)
    {
        Variant = variant;
        attention = new MultiHeadAttention(dModel, heads, rng, dropout: dropout);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        if (Variant != IntentVariant.IntentMean) yield return ("attention", attention);
    }

    /// <summary>
    /// The candidate-agnostic part, once per history: what the candidates attend to — HCAIM: the
    /// cohorts refined against the history, [U, N, D]; Target-Intent: the cohorts themselves;
    /// Intent-Mean: the mean of the non-empty cohorts, [U, D] (already the intent).
    /// </summary>
    /// <param name="cohorts">[U, N, D] cohort means per distinct history.</param>
    /// <param name="cohortKeep">[U, N]: 1 for a non-empty cohort.</param>
    /// <param name="history">[U, L, D] encoder output; <paramref name="historyKeep"/> [U, L].</param>
    public Tensor Summarise(Tensor cohorts, Tensor cohortKeep, Tensor history, Tensor historyKeep)
    {
        int u = cohorts.Shape[0], n = cohorts.Shape[1];
        if (Variant == IntentVariant.IntentMean)
        {
            var sum = Ops.Sum(Ops.Mul(cohorts, Ops.Reshape(cohortKeep, u, n, 1)), 1);     // [U, D]
            var count = new float[u];
            for (int h = 0; h < u; h++)
            {
                float c = 0;
                for (int k = 0; k < n; k++) c += cohortKeep.Data[h * n + k];
                count[h] = 1f / Math.Max(1f, c);
            }
            return Ops.Mul(sum, Tensor.FromArray(count, u, 1));
        }
        return Variant == IntentVariant.Hcaim ? attention.Forward(cohorts, history, historyKeep) : cohorts;
    }

    /// <summary>The per-candidate part: H_STI [B, D] of each candidate (target [B, D]) from its history's summary.</summary>
    /// <param name="summary">From <see cref="Summarise"/>, per distinct history.</param>
    /// <param name="cohortKeep">[U, N].</param>
    /// <param name="rowHistory">[B]: each candidate's history.</param>
    public Tensor Attend(Tensor summary, Tensor cohortKeep, int[] rowHistory, Tensor target)
    {
        if (Variant == IntentVariant.IntentMean) return Ops.IndexSelect(summary, rowHistory);
        int n = summary.Shape[1], d = summary.Shape[2], b = rowHistory.Length;
        if (summary.Shape[0] == 1)
        {
            // One history for every candidate (a ranking request): the candidates are b queries
            // against the same cohorts — each query's softmax is its own — so they attend as one
            // length-b query sequence, without copying the keys and values b times.
            var one = attention.ForwardProjected(Ops.Reshape(target, 1, b, d), attention.K.Forward(summary), attention.V.Forward(summary), cohortKeep);
            return Ops.Reshape(one, b, d);
        }
        // keys/values projected once per history, then shared by its candidates
        var keys = Ops.IndexSelect(attention.K.Forward(summary), rowHistory);                     // [B, N, inner]
        var values = Ops.IndexSelect(attention.V.Forward(summary), rowHistory);
        var keep = Ops.Reshape(Ops.IndexSelect(cohortKeep, rowHistory), b, n);
        var sti = attention.ForwardProjected(Ops.Reshape(target, b, 1, d), keys, values, keep);   // [B, 1, D]
        return Ops.Reshape(sti, b, d);
    }
}
