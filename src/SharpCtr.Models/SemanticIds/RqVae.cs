using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Models.SemanticIds;

/// <summary>Shape and losses of an RQ-VAE.</summary>
/// <param name="Hidden">encoder hidden widths; the decoder mirrors them.</param>
/// <param name="EmaUpdates">true: EMA codebooks (the authors'); false: codebooks learn from the codebook loss.</param>
public sealed record RqVaeOptions(int[] Hidden, int LatentDim = 32, int Levels = 3, int CodebookSize = 256, float Beta = 0.25f,
    bool EmaUpdates = true, float EmaDecay = 0.99f);

/// <summary>The losses of one batch, as numbers.</summary>
public readonly record struct RqVaeLoss(float Total, float Reconstruction, float Commitment, float Codebook);

/// <summary>
/// Residual-quantized variational autoencoder (as TIGER uses it for semantic IDs): encoder MLP
/// x → z, residual quantization of z over N codebooks, decoder MLP from the quantized latent back
/// to x. The quantizer is not differentiable, so the decoder's gradient reaches the encoder
/// straight through (decoder input z + sg(ẑ − z)); the commitment term β·Σ_n ‖r_n − sg(e_n)‖²
/// keeps z close to its codewords, and without EMA the codebook term Σ_n ‖sg(r_n) − e_n‖² moves
/// the codewords.
/// </summary>
public sealed class RqVae : Module
{
    public readonly RqVaeOptions Options;
    public readonly int InputDim;
    public readonly Mlp Encoder, Decoder;
    public readonly ResidualCodebooks Codebooks;

    public RqVae(int inputDim, RqVaeOptions options, Rng rng)
    {
        Options = options;
        InputDim = inputDim;
        Encoder = new Mlp(inputDim, options.Hidden, rng, Activation.Relu, outputDim: options.LatentDim);
        var reversed = (int[])options.Hidden.Clone();
        Array.Reverse(reversed);
        Decoder = new Mlp(options.LatentDim, reversed, rng, Activation.Relu, outputDim: inputDim);
        Codebooks = new ResidualCodebooks(options.Levels, options.CodebookSize, options.LatentDim, options.EmaUpdates, options.EmaDecay);
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("encoder", Encoder);
        yield return ("decoder", Decoder);
        yield return ("codebooks", Codebooks);
    }

    /// <summary>
    /// Forward pass and loss of a batch x [B, InputDim] under a recording tape; the caller runs
    /// Backward on <paramref name="loss"/> (and then the EMA update with the returned quantization).
    /// </summary>
    public (Tensor Loss, RqVaeLoss Parts, Quantized Quantized) Forward(Tensor x)
    {
        int b = x.Shape[0], d = Options.LatentDim;
        var z = Encoder.Forward(x);
        var q = Codebooks.Quantize(z.ToArray(), b);
        var full = q.Cumulative[^1];
        var shift = new float[b * d];
        for (int i = 0; i < shift.Length; i++) shift[i] = full[i] - z.Data[i];
        var zq = Ops.Add(z, Tensor.FromArray(shift, b, d));        // value ẑ, gradient of z: straight through
        var reconstruction = Ops.Mse(Decoder.Forward(zq), x);
        // r_n − e_n = z − (e_1 + … + e_n): with the codewords held constant this is z minus a constant
        Tensor? commitment = null;
        for (int l = 0; l < Options.Levels; l++)
        {
            var term = Ops.Mse(z, Tensor.FromArray(q.Cumulative[l], b, d));
            commitment = commitment is null ? term : Ops.Add(commitment, term);
        }
        var loss = Ops.Add(reconstruction, Ops.MulScalar(commitment!, Options.Beta));
        Tensor? codebook = null;
        if (!Options.EmaUpdates)
            for (int l = 0; l < Options.Levels; l++)
            {
                var ids = new int[b];
                for (int i = 0; i < b; i++) ids[i] = q.Codes[i * Options.Levels + l];
                var term = Ops.Mse(Ops.Embedding(Codebooks.Codebooks[l], ids, [b]), Tensor.FromArray(q.Residuals[l], b, d));
                codebook = codebook is null ? term : Ops.Add(codebook, term);
            }
        if (codebook is not null) loss = Ops.Add(loss, codebook);
        var parts = new RqVaeLoss(loss.ToScalar(), reconstruction.ToScalar(), commitment!.ToScalar(), codebook?.ToScalar() ?? 0f);
        return (loss, parts, q);
    }

    /// <summary>Latents of all rows (inference, in chunks), row-major [n × LatentDim].</summary>
    public float[] EncodeAll(float[] x, int n, int chunk = 4096)
    {
        var z = new float[n * Options.LatentDim];
        for (int s = 0; s < n; s += chunk)
        {
            int m = Math.Min(chunk, n - s);
            using var tape = Tape.Inference();
            var xb = Tensor.FromArray(x.AsSpan(s * InputDim, m * InputDim).ToArray(), m, InputDim);
            Encoder.Forward(xb).Span.CopyTo(z.AsSpan(s * Options.LatentDim));
        }
        return z;
    }

    /// <summary>Decoder outputs for latents (inference), row-major [n × InputDim].</summary>
    public float[] DecodeAll(float[] z, int n, int chunk = 4096)
    {
        var y = new float[n * InputDim];
        for (int s = 0; s < n; s += chunk)
        {
            int m = Math.Min(chunk, n - s);
            using var tape = Tape.Inference();
            var zb = Tensor.FromArray(z.AsSpan(s * Options.LatentDim, m * Options.LatentDim).ToArray(), m, Options.LatentDim);
            Decoder.Forward(zb).Span.CopyTo(y.AsSpan(s * InputDim));
        }
        return y;
    }
}
