namespace SharpCtr.Tensors.Nn;

/// <summary>
/// AUGRU, the interest-evolution layer of DIEN (Zhou et al. 2019): a GRU whose update gate is
/// scaled by the attention score a_t of each step, u' = a_t·u, h' = (1 − u') ⊙ h + u' ⊙ n, so a
/// step with a_t = 0 leaves the state unchanged. Here u is the weight of the new candidate (DIEN's
/// convention; PyTorch's GRU gate z is 1 − u). Same weight layout as <see cref="Gru"/> (gates r, u, n).
/// </summary>
public sealed class Augru : Module
{
    public readonly int InputSize, HiddenSize;
    public readonly Tensor WIh, WHh, BIh, BHh;

    public Augru(int inputSize, int hiddenSize, Rng rng)
    {
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        WIh = Tensor.Parameter("w_ih", inputSize, 3 * hiddenSize);
        WHh = Tensor.Parameter("w_hh", hiddenSize, 3 * hiddenSize);
        BIh = Tensor.Parameter("b_ih", 3 * hiddenSize);
        BHh = Tensor.Parameter("b_hh", 3 * hiddenSize);
        float a = 1f / MathF.Sqrt(hiddenSize);
        foreach (var w in new[] { WIh, WHh, BIh, BHh }) Init.Uniform(w, rng, -a, a);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters()
    {
        yield return ("w_ih", WIh);
        yield return ("w_hh", WHh);
        yield return ("b_ih", BIh);
        yield return ("b_hh", BHh);
    }

    /// <summary>x [B, L, In], attention [B, L], lengths (null = all L) → (outputs [B, L, H], last state [B, H]).</summary>
    public (Tensor Outputs, Tensor Last) Forward(Tensor x, Tensor attention, int[]? lengths = null)
    {
        if (attention.Rank != 2 || attention.Shape[0] != x.Shape[0] || attention.Shape[1] != x.Shape[1])
            throw new ArgumentException($"AUGRU attention must be [B, L] = [{x.Shape[0]}, {x.Shape[1]}], got {Tensor.ShapeString(attention.Shape)}");
        return GruLoop.Run(x, attention, lengths, InputSize, HiddenSize, WIh, WHh, BIh, BHh, attentional: true);
    }
}
