namespace SharpCtr.Tensors.Nn;

/// <summary>
/// One T5 encoder block, pre-norm: x += attn(norm(x)) with the shared relative position bias,
/// then x += ff(norm(x)). RMS norms, no biases, ReLU feed-forward.
/// </summary>
public sealed class T5EncoderLayer : Module
{
    public readonly RmsNorm AttnNorm, FfNorm;
    public readonly MultiHeadAttention Attn;
    public readonly T5FeedForward Ff;
    public readonly float DropoutP;
    readonly Rng dropoutRng;
    protected override IEnumerable<(string, Rng)> LocalRngs() { yield return ("dropout", dropoutRng); }

    public T5EncoderLayer(int dModel, int heads, int headDim, int dFf, Rng rng, float dropout = 0f, float eps = 1e-6f)
    {
        AttnNorm = new RmsNorm(dModel, eps);
        Attn = T5Attention.Create(dModel, heads, headDim, rng);
        FfNorm = new RmsNorm(dModel, eps);
        Ff = new T5FeedForward(dModel, dFf, rng, dropout);
        DropoutP = dropout;
        dropoutRng = rng.Fork();
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("attn_norm", AttnNorm);
        yield return ("attn", Attn);
        yield return ("ff_norm", FfNorm);
        yield return ("ff", Ff);
    }

    /// <summary>x [B, L, D], keyKeep [B, L], positionBias [H, L, L] → [B, L, D].</summary>
    public Tensor Forward(Tensor x, Tensor? keyKeep, Tensor? positionBias)
    {
        var n = AttnNorm.Forward(x);
        x = Ops.Add(x, Drop(Attn.Forward(n, n, keyKeep, causal: false, positionBias)));
        return Ops.Add(x, Drop(Ff.Forward(FfNorm.Forward(x))));
    }

    Tensor Drop(Tensor x) => Training && DropoutP > 0 ? Ops.Dropout(x, DropoutP, dropoutRng) : x;
}
