namespace SharpCtr.Data.Synthetic;

/// <summary>
/// xoshiro256** seeded through SplitMix64. Our own generator rather than System.Random so that
/// "same seed → same bytes" holds across .NET versions, and so sub-streams are cheap to derive.
/// </summary>
public sealed class SynthRandom
{
    ulong _s0, _s1, _s2, _s3;

    public SynthRandom(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    /// <summary>An independent stream for sub-task <paramref name="index"/> (e.g. one user).</summary>
    public static SynthRandom Derive(ulong seed, ulong stream, ulong index)
    {
        var x = seed ^ (stream * 0x9E3779B97F4A7C15UL);
        var mixed = SplitMix(ref x) ^ (index * 0xD1B54A32D192ED03UL);
        return new SynthRandom(mixed);
    }

    static ulong SplitMix(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextULong()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n) (Lemire's multiply-shift; the tiny bias is irrelevant here).</summary>
    public int Next(int n) => (int)(((NextULong() >> 32) * (ulong)n) >> 32);

    /// <summary>Uniform integer in [min, max], both inclusive.</summary>
    public int Between(int min, int max) => min + Next(max - min + 1);

    public bool Bernoulli(double p) => NextDouble() < p;

    public double Gaussian()
    {
        // Box–Muller; 1 - u keeps the log argument in (0, 1].
        var u = 1.0 - NextDouble();
        var v = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v);
    }

    /// <summary>Gamma(shape, 1) by Marsaglia–Tsang; used for Dirichlet interest weights.</summary>
    public double Gamma(double shape)
    {
        if (shape < 1) return Gamma(shape + 1) * Math.Pow(NextDouble() + 1e-300, 1.0 / shape);
        var d = shape - 1.0 / 3.0;
        var c = 1.0 / Math.Sqrt(9.0 * d);
        while (true)
        {
            double x, v;
            do { x = Gaussian(); v = 1.0 + c * x; } while (v <= 0);
            v = v * v * v;
            var u = NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x) return d * v;
            if (Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }

    /// <summary>Index drawn with probability proportional to <paramref name="weights"/>.</summary>
    public int Categorical(ReadOnlySpan<double> weights)
    {
        var total = 0.0;
        foreach (var w in weights) total += w;
        var r = NextDouble() * total;
        for (var i = 0; i < weights.Length; i++)
        {
            r -= weights[i];
            if (r < 0) return i;
        }
        // Rounding can leave r a hair above zero: fall back to the last positive weight.
        for (var i = weights.Length - 1; i >= 0; i--) if (weights[i] > 0) return i;
        throw new ArgumentException("all weights are zero", nameof(weights));
    }

    /// <summary>Index drawn from a cumulative table (binary search), for large item lists.</summary>
    public int FromCumulative(ReadOnlySpan<double> cumulative)
    {
        var r = NextDouble() * cumulative[^1];
        int lo = 0, hi = cumulative.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) >> 1;
            if (cumulative[mid] > r) hi = mid; else lo = mid + 1;
        }
        return lo;
    }
}
