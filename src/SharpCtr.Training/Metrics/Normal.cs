namespace SharpCtr.Training.Metrics;

/// <summary>Standard normal distribution, through erfc(x) = Q(1/2, x²) so tails stay accurate.</summary>
public static class Normal
{
    /// <summary>P(|Z| ≥ |z|).</summary>
    public static double TwoSidedP(double z)
    {
        if (double.IsNaN(z)) return double.NaN;
        if (double.IsInfinity(z)) return 0;
        return SpecialFunctions.RegularizedGammaQ(0.5, z * z / 2);
    }

    /// <summary>P(Z ≤ z).</summary>
    public static double Cdf(double z)
    {
        double tail = 0.5 * TwoSidedP(z);
        return z >= 0 ? 1 - tail : tail;
    }
}
