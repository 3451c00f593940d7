namespace SharpCtr.Training.Metrics;

/// <summary>Student's t distribution with ν degrees of freedom (ν may be fractional, e.g. Welch).</summary>
public static class StudentT
{
    /// <summary>P(T ≤ t). Uses P(|T| &gt; |t|) = I_{ν/(ν+t²)}(ν/2, 1/2).</summary>
    public static double Cdf(double t, double degreesOfFreedom)
    {
        double tail = 0.5 * TwoSidedP(t, degreesOfFreedom);
        return t >= 0 ? 1 - tail : tail;
    }

    /// <summary>P(|T| ≥ |t|), the two-sided p-value of an observed t.</summary>
    public static double TwoSidedP(double t, double degreesOfFreedom)
    {
        if (!(degreesOfFreedom > 0)) throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, "must be positive.");
        if (double.IsNaN(t)) return double.NaN;
        if (double.IsInfinity(t)) return 0;
        double v = degreesOfFreedom;
        return SpecialFunctions.RegularizedIncompleteBeta(v / (v + t * t), v / 2, 0.5);
    }
}
