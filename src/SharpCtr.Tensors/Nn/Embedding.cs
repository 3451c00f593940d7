namespace SharpCtr.Tensors.Nn;

/// <summary>
/// An embedding table [vocab, dim]. Id 0 is the padding id by default: it looks up a zero vector
/// and its row never receives a gradient. The gradient is row-sparse (<see cref="SparseRowGrad"/>)
/// unless <c>sparse: false</c>, so an optimizer can update only the rows a batch touched.
/// Initialised N(0, std²) (std 1e-4 by default, as common CTR code does), padding row zero.
/// </summary>
public sealed class Embedding : Module
{
    public readonly int Vocab, Dim, PaddingIdx;
    public readonly Tensor Weight;

    public Embedding(int vocab, int dim, Rng rng, int paddingIdx = 0, float std = 1e-4f, bool sparse = true)
    {
        Vocab = vocab;
        Dim = dim;
        PaddingIdx = paddingIdx;
        Weight = Tensor.Parameter("weight", vocab, dim);
        Init.Normal(Weight, rng, std);
        if ((uint)paddingIdx < (uint)vocab) Array.Clear(Weight.Data, paddingIdx * dim, dim);
        if (sparse) Weight.SparseGrad = new SparseRowGrad(vocab, dim);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters() { yield return ("weight", Weight); }

    /// <summary>ids (the first Π idShape entries) → [..idShape, Dim].</summary>
    public Tensor Forward(int[] ids, params int[] idShape) => Ops.Embedding(Weight, ids, idShape, PaddingIdx);
}
