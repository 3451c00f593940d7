namespace SharpCtr.Tensors.Nn;

/// <summary>
/// The standard Transformer encoder layer (PyTorch's nn.TransformerEncoderLayer, batch-first):
/// post-norm  x = norm1(x + drop(attn(x)));  x = norm2(x + drop(ff2(drop(act(ff1(x))))))
/// or, with <c>normFirst</c>, pre-norm  x = x + drop(attn(norm1(x)));  x = x + drop(ff(norm2(x))).
/// Activation ReLU (or GELU).
/// </summary>
public sealed class TransformerEncoderLayer : Module
{
    public readonly MultiHeadAttention Attn;
    public readonly Linear Ff1, Ff2;
    public readonly LayerNorm Norm1, Norm2;
    public readonly float DropoutP;
    public readonly bool NormFirst, UseGelu;
    readonly Rng dropoutRng;
    protected override IEnumerable<(string, Rng)> LocalRngs() { yield return ("dropout", dropoutRng); }

    public TransformerEncoderLayer(int dModel, int heads, int dFf, Rng rng, float dropout = 0f, bool normFirst = false, bool gelu = false, float eps = 1e-5f)
    {
        Attn = new MultiHeadAttention(dModel, heads, rng);
        Ff1 = new Linear(dModel, dFf, rng);
        Ff2 = new Linear(dFf, dModel, rng);
        Norm1 = new LayerNorm(dModel, eps);
        Norm2 = new LayerNorm(dModel, eps);
        DropoutP = dropout;
        NormFirst = normFirst;
        UseGelu = gelu;
        dropoutRng = rng.Fork();
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("attn", Attn);
        yield return ("ff1", Ff1);
        yield return ("ff2", Ff2);
        yield return ("norm1", Norm1);
        yield return ("norm2", Norm2);
    }

    /// <summary>x [B, L, D], keyKeep [B, L] (1 = real token) → [B, L, D].</summary>
    public Tensor Forward(Tensor x, Tensor? keyKeep = null, bool causal = false)
    {
        if (NormFirst)
        {
            var n = Norm1.Forward(x);
            x = Ops.Add(x, Drop(Attn.Forward(n, n, keyKeep, causal)));
            return Ops.Add(x, Drop(FeedForward(Norm2.Forward(x))));
        }
        x = Norm1.Forward(Ops.Add(x, Drop(Attn.Forward(x, x, keyKeep, causal))));
        return Norm2.Forward(Ops.Add(x, Drop(FeedForward(x))));
    }

    Tensor FeedForward(Tensor x)
    {
        var h = Ff1.Forward(x);
        h = UseGelu ? Ops.Gelu(h) : Ops.Relu(h);
        return Ff2.Forward(Drop(h));
    }

    Tensor Drop(Tensor x) => Training && DropoutP > 0 ? Ops.Dropout(x, DropoutP, dropoutRng) : x;
}
