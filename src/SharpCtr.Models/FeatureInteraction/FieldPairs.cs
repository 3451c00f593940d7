using SharpCtr.Tensors;

namespace SharpCtr.Models.FeatureInteraction;

/// <summary>
/// The F·(F−1)/2 unordered field pairs (i &lt; j, row-major) that FwFM, PNN and SFG weight. All
/// pairwise products come from one batched V·Vᵀ; a constant 0/1 selector matrix then picks the
/// upper triangle with one GEMM, so no model loops over pairs.
/// </summary>
internal sealed class FieldPairs
{
    public readonly int Fields, Count;
    /// <summary>[F·F, P]: column p is 1 at row i·F + j of the p-th pair.</summary>
    readonly Tensor selector;

    public FieldPairs(int fields)
    {
        Fields = fields;
        Count = fields * (fields - 1) / 2;
        var s = new float[fields * fields * Count];
        int p = 0;
        for (int i = 0; i < fields; i++)
            for (int j = i + 1; j < fields; j++, p++) s[(i * fields + j) * Count + p] = 1f;
        selector = Tensor.FromArray(s, fields * fields, Count);
    }

    /// <summary>⟨a_i, b_j⟩ for every pair i &lt; j: a, b [B, F, D] → [B, P].</summary>
    public Tensor InnerProducts(Tensor a, Tensor b)
    {
        int batch = a.Shape[0];
        var all = Ops.MatMul(a, b, transB: true);                           // [B, F, F]
        return Ops.MatMul(Ops.Reshape(all, batch, Fields * Fields), selector);
    }
}
