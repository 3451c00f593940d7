using SharpCtr.Data.Batching;

namespace SharpCtr.Models;

/// <summary>Raw ids of a batch's fields, for models that compare ids (category gates, hard search).</summary>
public static class FieldIds
{
    /// <summary>One id per row: the categorical id, or the first id of a multi-valued field (0 when it has none).</summary>
    public static int[] First(Batch b, string field)
    {
        if (b.Categorical.TryGetValue(field, out var ids)) return ids;
        var m = b.MultiField(field);
        var first = new int[b.Count];
        for (int r = 0; r < b.Count; r++) first[r] = m.Lengths[r] > 0 ? m.Ids[r * m.Width] : 0;
        return first;
    }
}
