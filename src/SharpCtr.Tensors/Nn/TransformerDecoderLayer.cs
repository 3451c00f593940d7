namespace SharpCtr.Tensors.Nn;

/// <summary>
/// The standard Transformer decoder layer (PyTorch's nn.TransformerDecoderLayer, batch-first, post-norm):
/// x = norm1(x + drop(selfAttn(x, causal))); x = norm2(x + drop(crossAttn(x, memory)));
/// x = norm3(x + drop(ff2(drop(relu(ff1(x)))))).
/// </summary>
public sealed class TransformerDecoderLayer : Module
{
    public readonly MultiHeadAttention SelfAttn, CrossAttn;
    public readonly Linear Ff1, Ff2;
    public readonly LayerNorm Norm1, Norm2, Norm3;
    public readonly float DropoutP;
    readonly Rng dropoutRng;
    protected override IEnumerable<(string, Rng)> LocalRngs() { yield return ("dropout", dropoutRng); }

    public TransformerDecoderLayer(int dModel, int heads, int dFf, Rng rng, float dropout = 0f, float eps = 1e-5f)
    {
        SelfAttn = new MultiHeadAttention(dModel, heads, rng);
        CrossAttn = new MultiHeadAttention(dModel, heads, rng);
        Ff1 = new Linear(dModel, dFf, rng);
        Ff2 = new Linear(dFf, dModel, rng);
        Norm1 = new LayerNorm(dModel, eps);
        Norm2 = new LayerNorm(dModel, eps);
        Norm3 = new LayerNorm(dModel, eps);
        DropoutP = dropout;
        dropoutRng = rng.Fork();
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("self_attn", SelfAttn);
        yield return ("cross_attn", CrossAttn);
        yield return ("ff1", Ff1);
        yield return ("ff2", Ff2);
        yield return ("norm1", Norm1);
        yield return ("norm2", Norm2);
        yield return ("norm3", Norm3);
    }

    /// <summary>x [B, Lt, D], memory [B, Ls, D], memoryKeep [B, Ls], targetKeep [B, Lt] → [B, Lt, D].</summary>
    public Tensor Forward(Tensor x, Tensor memory, Tensor? memoryKeep = null, Tensor? targetKeep = null)
    {
        x = Norm1.Forward(Ops.Add(x, Drop(SelfAttn.Forward(x, x, targetKeep, causal: true))));
        x = Norm2.Forward(Ops.Add(x, Drop(CrossAttn.Forward(x, memory, memoryKeep))));
        var h = Ff2.Forward(Drop(Ops.Relu(Ff1.Forward(x))));
        return Norm3.Forward(Ops.Add(x, Drop(h)));
    }

    Tensor Drop(Tensor x) => Training && DropoutP > 0 ? Ops.Dropout(x, DropoutP, dropoutRng) : x;
}
