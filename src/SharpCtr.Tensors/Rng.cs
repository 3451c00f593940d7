namespace SharpCtr.Tensors;

/// <summary>
/// Seeded random numbers (xoshiro256** seeded through SplitMix64): the same seed gives the same
/// stream on every machine and .NET version, unlike System.Random's unspecified algorithm. Its
/// state can be saved in checkpoints so a resumed run continues the same stream.
/// </summary>
public sealed class Rng
{
    ulong s0, s1, s2, s3;
    double spareNormal;
    bool hasSpare;

    public Rng(ulong seed)
    {
        ulong x = seed;
        s0 = SplitMix(ref x); s1 = SplitMix(ref x); s2 = SplitMix(ref x); s3 = SplitMix(ref x);
    }

    static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public float NextFloat() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform integer in [0, n), unbiased (Lemire's method).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"NextInt needs n > 0, got {n}");
        ulong m = (ulong)(uint)NextUInt64() * (uint)n;
        if ((uint)m < (uint)n)
        {
            uint threshold = (uint)(-n) % (uint)n;
            while ((uint)m < threshold) m = (ulong)(uint)NextUInt64() * (uint)n;
        }
        return (int)(m >> 32);
    }

    /// <summary>Standard normal (Marsaglia polar method).</summary>
    public double NextNormal()
    {
        if (hasSpare) { hasSpare = false; return spareNormal; }
        double u, v, s;
        do { u = 2 * NextDouble() - 1; v = 2 * NextDouble() - 1; s = u * u + v * v; } while (s >= 1 || s == 0);
        double f = Math.Sqrt(-2 * Math.Log(s) / s);
        spareNormal = v * f; hasSpare = true;
        return u * f;
    }

    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A new generator whose stream is independent of this one's (for workers, layers, epochs).</summary>
    public Rng Fork() => new(NextUInt64());

    public ulong[] GetState() => [s0, s1, s2, s3, hasSpare ? 1UL : 0UL, BitConverter.DoubleToUInt64Bits(spareNormal)];

    public void SetState(ReadOnlySpan<ulong> state)
    {
        if (state.Length != 6) throw new ArgumentException($"RNG state has {state.Length} words, expected 6");
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3]);
        hasSpare = state[4] != 0;
        spareNormal = BitConverter.UInt64BitsToDouble(state[5]);
    }
}
