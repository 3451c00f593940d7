using SharpCtr.Tensors;

namespace SharpCtr.Models.Generative;

/// <summary>
/// Cohort membership per level, fixed by the semantic-ID file. Level-only cohorts (the default,
/// as in the authors' code): C_n = items whose n-th code equals the generated n-th code.
/// Prefix cohorts: C_n = items whose first n codes equal the generated ones. Members are stored
/// grouped by cohort with weight 1/|C|, so all cohort means of a level are one segment sum over
/// the item table per step, and a sample's cohort is then a row gather. Cohort 0 is empty (an
/// unknown prefix): its mean is zero and attention masks it.
/// </summary>
public sealed class CohortIndex
{
    public readonly int Levels;
    public readonly bool Prefix;
    readonly SemanticCodes codes;
    readonly int[][] members;          // per level: item ids grouped by cohort
    readonly int[][] offsets;          // per level: [cohorts + 1]
    readonly float[][] weights;        // per level: 1/|C| per member
    readonly Dictionary<long, int>[] prefixIds;   // prefix cohorts: trie key → cohort id (≥ 1)

    public CohortIndex(SemanticCodes codes, int levels, bool prefix)
    {
        if (levels < 1 || levels > codes.Levels) throw new ArgumentOutOfRangeException(nameof(levels), $"cohort levels must be in 1..{codes.Levels}, got {levels}");
        this.codes = codes;
        Levels = levels;
        Prefix = prefix;
        members = new int[levels][];
        offsets = new int[levels][];
        weights = new float[levels][];
        prefixIds = new Dictionary<long, int>[levels];
        for (int l = 0; l < levels; l++)
        {
            prefixIds[l] = new Dictionary<long, int>();
            var cohortOf = new int[codes.ItemVocab];
            int count = prefix ? 1 : codes.VocabSizes[l];
            for (int item = 2; item < codes.ItemVocab; item++)
            {
                if (!codes.Has(item)) continue;
                if (!prefix) { cohortOf[item] = codes.Code(item, l); continue; }
                long key = 0;
                for (int k = 0; k <= l; k++) key = codes.Extend(key, codes.Code(item, k));
                if (!prefixIds[l].TryGetValue(key, out var id)) prefixIds[l][key] = id = count++;
                cohortOf[item] = id;
            }
            var size = new int[count];
            for (int item = 2; item < codes.ItemVocab; item++) if (cohortOf[item] > 0) size[cohortOf[item]]++;
            var off = new int[count + 1];
            for (int c = 0; c < count; c++) off[c + 1] = off[c] + size[c];
            var mem = new int[off[count]];
            var w = new float[mem.Length];
            var fill = (int[])off.Clone();
            for (int item = 2; item < codes.ItemVocab; item++)
            {
                int c = cohortOf[item];
                if (c == 0) continue;
                w[fill[c]] = 1f / size[c];
                mem[fill[c]++] = item;
            }
            members[l] = mem; offsets[l] = off; weights[l] = w;
        }
    }

    public int CohortCount(int level) => offsets[level].Length - 1;
    public int Size(int level, int cohort) => offsets[level][cohort + 1] - offsets[level][cohort];
    public ReadOnlySpan<int> Members(int level, int cohort) => members[level].AsSpan(offsets[level][cohort], Size(level, cohort));

    /// <summary>The cohort of a generated semantic ID at a level (0 when no item shares it).</summary>
    public int CohortOf(int level, ReadOnlySpan<int> generated)
    {
        if (!Prefix)
        {
            int c = generated[level];
            return c < CohortCount(level) && Size(level, c) > 0 ? c : 0;
        }
        long key = 0;
        for (int k = 0; k <= level; k++) key = codes.Extend(key, generated[k]);
        return prefixIds[level].TryGetValue(key, out var id) ? id : 0;
    }

    /// <summary>
    /// Mean item embedding of the given cohorts of a level, [ids.Length, D] (cohort 0 gives zero).
    /// The same sums as <see cref="Means(Tensor, int)"/>; when the chosen cohorts have fewer members
    /// than the level (a request's one history), only their members are read.
    /// </summary>
    public Tensor Means(Tensor itemTable, int level, int[] cohortIds)
    {
        int total = 0;
        foreach (int c in cohortIds) total += Size(level, c);
        if (total >= members[level].Length) return Ops.IndexSelect(Means(itemTable, level), cohortIds);
        if (total == 0) return Tensor.Zeros(cohortIds.Length, itemTable.Shape[1]);
        var rows = new int[total];
        var w = new float[total];
        var off = new int[cohortIds.Length + 1];
        for (int i = 0; i < cohortIds.Length; i++)
        {
            int c = cohortIds[i], start = offsets[level][c], size = Size(level, c);
            Array.Copy(members[level], start, rows, off[i], size);
            Array.Copy(weights[level], start, w, off[i], size);
            off[i + 1] = off[i] + size;
        }
        return Ops.SegmentWeightedSum(Ops.IndexSelect(itemTable, rows), Tensor.FromArray(w, total), off);
    }

    /// <summary>Mean item embedding of every cohort of a level, [cohorts, D]; empty cohorts are zero.</summary>
    public Tensor Means(Tensor itemTable, int level)
    {
        var rows = Ops.IndexSelect(itemTable, members[level]);
        return Ops.SegmentWeightedSum(rows, Tensor.FromArray(weights[level], weights[level].Length), offsets[level]);
    }
}
