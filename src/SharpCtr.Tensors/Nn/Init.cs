namespace SharpCtr.Tensors.Nn;

/// <summary>
/// Parameter initialisers. Fans come from the shape the way SharpCtr stores weights: a rank-2
/// weight is [in, out] (fan-in = rows, fan-out = columns); for higher ranks the leading axes
/// multiply into fan-in.
/// </summary>
public static class Init
{
    public static void Zeros(Tensor w) => Array.Clear(w.Data);

    public static void Constant(Tensor w, float value) => Array.Fill(w.Data, value);

    public static void Uniform(Tensor w, Rng rng, float lo, float hi)
    {
        var d = w.Data;
        for (int i = 0; i < w.Size; i++) d[i] = lo + (hi - lo) * rng.NextFloat();
    }

    public static void Normal(Tensor w, Rng rng, float std, float mean = 0f)
    {
        var d = w.Data;
        for (int i = 0; i < w.Size; i++) d[i] = mean + std * (float)rng.NextNormal();
    }

    /// <summary>Glorot: U(−a, a) with a = gain·sqrt(6 / (fanIn + fanOut)).</summary>
    public static void XavierUniform(Tensor w, Rng rng, float gain = 1f)
    {
        var (fanIn, fanOut) = Fans(w);
        float a = gain * MathF.Sqrt(6f / (fanIn + fanOut));
        Uniform(w, rng, -a, a);
    }

    /// <summary>Glorot: N(0, std²) with std = gain·sqrt(2 / (fanIn + fanOut)).</summary>
    public static void XavierNormal(Tensor w, Rng rng, float gain = 1f)
    {
        var (fanIn, fanOut) = Fans(w);
        Normal(w, rng, gain * MathF.Sqrt(2f / (fanIn + fanOut)));
    }

    static (int fanIn, int fanOut) Fans(Tensor w)
    {
        if (w.Rank < 2) return (w.Size, w.Size);
        int fanOut = w.Shape[^1];
        return (w.Size / fanOut, fanOut);
    }
}
