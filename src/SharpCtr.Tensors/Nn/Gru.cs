namespace SharpCtr.Tensors.Nn;

/// <summary>
/// A one-layer GRU with PyTorch's nn.GRU math, batch-first, over padded variable-length sequences:
/// r = σ(x W_ir + b_ir + h W_hr + b_hr), z = σ(… z …), n = tanh(x W_in + b_in + r ⊙ (h W_hn + b_hn)),
/// h' = (1 − z) ⊙ n + z ⊙ h. Weights are stored [in, 3H] and [H, 3H] with gates in the order
/// r, z, n (PyTorch's weight_ih_l0 transposed). Past a sequence's length its state stops changing
/// and its outputs are zero (as pack_padded_sequence). Initialised U(−1/√H, 1/√H) as PyTorch.
/// </summary>
public sealed class Gru : Module
{
    public readonly int InputSize, HiddenSize;
    public readonly Tensor WIh, WHh, BIh, BHh;

    public Gru(int inputSize, int hiddenSize, Rng rng)
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

    /// <summary>
    /// x [B, L, In], lengths (null = all L) → (outputs [B, L, H], last state [B, H]).
    /// </summary>
    public (Tensor Outputs, Tensor Last) Forward(Tensor x, int[]? lengths = null) =>
        GruLoop.Run(x, null, lengths, InputSize, HiddenSize, WIh, WHh, BIh, BHh, attentional: false);
}
