using SharpCtr.Tensors;

namespace SharpCtr.Models.BehaviorSequence;

/// <summary>
/// A batch's distinct histories as a padded block [G, L, K] (oldest → newest, right-padded with
/// zero keys), for models whose sequence work needs positions: recurrences, self-attention,
/// top-k retrieval. Built from <see cref="FeatureEmbeddings.Packed"/>, so candidates of one
/// request (consecutive samples with the same history) share one group and history-only work
/// runs once per group; <see cref="PerSample"/> gathers group results back to samples.
/// Shapes recur from batch to batch, because the tensor pool keeps one bucket per exact size (a
/// new size every batch grew it without bound — an OOM kill on ML-1M): L is the sequence's
/// max_len (at least <c>minLen</c>, so a model that picks a fixed number of positions sees the
/// same shapes alone or in a batch), and G is rounded up to a size class with empty groups.
/// </summary>
public sealed class PaddedHistories
{
    /// <summary>[G, L, K] keys; rows past a history's length are zero.</summary>
    public readonly Tensor Keys;
    /// <summary>[G, L]: 1 at real positions, 0 at padding.</summary>
    public readonly Tensor Keep;
    /// <summary>[G] real length of each history.</summary>
    public readonly int[] Lengths;
    /// <summary>[B] the group of every sample.</summary>
    public readonly int[] Group;
    /// <summary>[G] the first sample of every group (to read the group's ids from the batch).</summary>
    public readonly int[] FirstSample;
    public readonly int Groups, Len, Width;

    PaddedHistories(Tensor keys, Tensor keep, int[] lengths, int[] group, int[] firstSample, int len)
    {
        Keys = keys; Keep = keep; Lengths = lengths; Group = group; FirstSample = firstSample;
        Groups = lengths.Length; Len = len; Width = keys.Shape[2];
    }

    public static PaddedHistories From(FeatureEmbeddings.Packed p, int maxLen, int minLen = 1)
    {
        int b = p.Offsets.Length - 1;
        var group = new int[b];
        var starts = new List<int>();
        var lengths = new List<int>();
        var first = new List<int>();
        int len = Math.Max(Math.Max(1, minLen), maxLen);
        for (int r = 0; r < b; r++)
        {
            int n = p.Offsets[r + 1] - p.Offsets[r];
            int start = n > 0 ? p.RowKey[p.Offsets[r]] : -1;
            bool same = r > 0 && n > 0 && lengths[group[r - 1]] == n && starts[group[r - 1]] == start;
            if (same) { group[r] = group[r - 1]; continue; }
            group[r] = starts.Count;
            starts.Add(start);
            first.Add(r);
            lengths.Add(n);
            if (n > len) throw new ArgumentException($"history of length {n} exceeds max_len {len}");
        }
        for (int extra = FeatureEmbeddings.SizeClass(starts.Count) - starts.Count; extra > 0; extra--) { starts.Add(-1); lengths.Add(0); first.Add(0); }
        int g = starts.Count, u = p.Keys.Shape[0], k = p.Keys.Shape[1];
        var index = new int[g * len];
        var keep = Tensor.Temp([g, len], zero: true);
        for (int gi = 0; gi < g; gi++)
            for (int l = 0; l < len; l++)
            {
                bool real = l < lengths[gi];
                index[gi * len + l] = real ? starts[gi] + l : u;   // row u: the appended zero key
                if (real) keep.Data[gi * len + l] = 1;
            }
        var withZero = Ops.Concat([p.Keys, Tensor.Zeros(1, k)], 0);
        var keys = Ops.Reshape(Ops.IndexSelect(withZero, index), g, len, k);
        return new PaddedHistories(keys, keep, lengths.ToArray(), group, first.ToArray(), len);
    }

    /// <summary>x [G, ...] → [B, ...]: each sample gets its group's slice.</summary>
    public Tensor PerSample(Tensor x)
    {
        var shape = x.Shape.ToArray();
        shape[0] = Group.Length;
        return Ops.Reshape(Ops.IndexSelect(Ops.Reshape(x, Groups, -1), Group), shape);
    }

    /// <summary>[B] history length of every sample.</summary>
    public int[] SampleLengths()
    {
        var n = new int[Group.Length];
        for (int r = 0; r < n.Length; r++) n[r] = Lengths[Group[r]];
        return n;
    }

    /// <summary>
    /// Positions of the k highest-scoring real positions of each row of <paramref name="scores"/>
    /// [R, L] whose history length is <paramref name="lengths"/>[r], best first; rows with fewer
    /// than k real positions are filled with -1. Selection only: no gradient flows through it.
    /// </summary>
    public static int[] TopKReal(Tensor scores, int[] lengths, int k)
    {
        int rows = scores.Shape[0], len = scores.Shape[1];
        var masked = Tensor.Temp([rows, len]);
        for (int r = 0; r < rows; r++)
            for (int l = 0; l < len; l++)
                masked.Data[r * len + l] = l < lengths[r] ? scores.Data[r * len + l] : float.MinValue;
        var (_, idx) = Ops.TopK(masked, Math.Min(k, len));
        int kk = Math.Min(k, len);
        var picked = new int[rows * k];
        Array.Fill(picked, -1);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < Math.Min(kk, lengths[r]); j++) picked[r * k + j] = idx[r * kk + j];
        return picked;
    }

    /// <summary>
    /// Rows of <paramref name="perRow"/> [R, L, D] at the picked positions (−1 = none, a zero row)
    /// as [R, k, D] plus the keep mask [R, k].
    /// </summary>
    public static (Tensor Picked, Tensor Keep) Gather(Tensor perRow, int[] picked, int k)
    {
        int rows = perRow.Shape[0], len = perRow.Shape[1], d = perRow.Shape[2];
        var flat = Ops.Concat([Ops.Reshape(perRow, rows * len, d), Tensor.Zeros(1, d)], 0);
        var index = new int[rows * k];
        var keep = Tensor.Temp([rows, k], zero: true);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < k; j++)
            {
                int l = picked[r * k + j];
                index[r * k + j] = l < 0 ? rows * len : r * len + l;
                if (l >= 0) keep.Data[r * k + j] = 1;
            }
        return (Ops.Reshape(Ops.IndexSelect(flat, index), rows, k, d), keep);
    }
}
