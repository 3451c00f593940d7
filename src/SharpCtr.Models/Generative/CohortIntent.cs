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

    /// <param name="cohorts">[U, N, D] cohort means per distinct history.</param>
    /// <param name="cohortKeep">[U, N]: 1 for a non-empty cohort.</param>
    /// <param name="history">[U, L, D] encoder output; <paramref name="historyKeep"/> [U, L].</param>
    /// <param name="rowHistory">[B]: each sample's distinct history.</param>
    /// <param name="target">[B, D] the candidate items' embeddings.</param>
    /// <returns>H_STI [B, D].</returns>
    public Tensor Forward(Tensor cohorts, Tensor cohortKeep, Tensor history, Tensor historyKeep, int[] rowHistory, Tensor target)
    {
        int u = cohorts.Shape[0], n = cohorts.Shape[1], d = cohorts.Shape[2], b = rowHistory.Length;
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
            return Ops.IndexSelect(Ops.Mul(sum, Tensor.FromArray(count, u, 1)), rowHistory);
        }
        var memory = Variant == IntentVariant.Hcaim ? attention.Forward(cohorts, history, historyKeep) : cohorts;   // [U, N, D]
        var perRow = Ops.IndexSelect(memory, rowHistory);                                                        // [B, N, D]
        var keep = Ops.Reshape(Ops.IndexSelect(cohortKeep, rowHistory), b, n);
        var sti = attention.Forward(Ops.Reshape(target, b, 1, d), perRow, keep);                                 // [B, 1, D]
        return Ops.Reshape(sti, b, d);
    }
}
