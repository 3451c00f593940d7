namespace SharpCtr.Training.Metrics;

/// <summary>Per-group AUCs in ascending group-id order; Aucs[i] is NaN when group i holds one class.</summary>
public sealed record PerGroupAucs(int[] GroupIds, double[] Aucs, int[] Counts, int[] Positives);
