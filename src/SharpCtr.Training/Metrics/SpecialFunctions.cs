namespace SharpCtr.Training.Metrics;

/// <summary>
/// The few special functions the significance tests need, to double precision (~1e-14 relative):
/// ln Γ (Lanczos, g = 7), the regularized incomplete beta I_x(a, b) and the regularized upper
/// incomplete gamma Q(a, x), both by power series or Lentz continued fractions.
/// </summary>
public static class SpecialFunctions
{
    // Lanczos approximation coefficients for g = 7, n = 9 (the widely published set).
    static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012,
        9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    public static double LogGamma(double x)
    {
        if (x <= 0) throw new ArgumentOutOfRangeException(nameof(x), x, "LogGamma is only needed (and defined here) for x > 0.");
        if (x < 0.5) // reflection keeps the series in its accurate range
            return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        x -= 1;
        double sum = Lanczos[0];
        for (int i = 1; i < Lanczos.Length; i++) sum += Lanczos[i] / (x + i);
        double t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }

    /// <summary>I_x(a, b) = B(x; a, b) / B(a, b) for a, b &gt; 0 and x in [0, 1].</summary>
    public static double RegularizedIncompleteBeta(double x, double a, double b)
    {
        if (!(a > 0 && b > 0)) throw new ArgumentOutOfRangeException(nameof(a), $"a = {a}, b = {b}; both must be positive.");
        if (!(x >= 0 && x <= 1)) throw new ArgumentOutOfRangeException(nameof(x), x, "x must lie in [0, 1].");
        if (x == 0 || x == 1) return x;
        double logFront = LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * Math.Log(x) + b * Math.Log(1 - x);
        // The continued fraction converges fast for x < (a + 1) / (a + b + 2); otherwise use the
        // symmetry I_x(a, b) = 1 − I_{1−x}(b, a).
        if (x < (a + 1) / (a + b + 2))
            return Math.Exp(logFront) * BetaFraction(x, a, b) / a;
        return 1 - Math.Exp(logFront) * BetaFraction(1 - x, b, a) / b;
    }

    static double BetaFraction(double x, double a, double b)
    {
        const double tiny = 1e-300, eps = 1e-16;
        double c = 1, d = 1 - (a + b) * x / (a + 1);
        if (Math.Abs(d) < tiny) d = tiny;
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= 500; m++)
        {
            int m2 = 2 * m;
            // even step: d_{2m} = m (b − m) x / ((a + 2m − 1)(a + 2m))
            double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + num * d; if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + num / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d; h *= d * c;
            // odd step: d_{2m+1} = −(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1))
            num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + num * d; if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + num / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < eps) return h;
        }
        throw new InvalidOperationException($"Incomplete beta did not converge for x = {x}, a = {a}, b = {b}.");
    }

    /// <summary>Q(a, x) = Γ(a, x) / Γ(a), the regularized upper incomplete gamma, a &gt; 0, x ≥ 0.</summary>
    public static double RegularizedGammaQ(double a, double x)
    {
        if (!(a > 0)) throw new ArgumentOutOfRangeException(nameof(a), a, "a must be positive.");
        if (!(x >= 0)) throw new ArgumentOutOfRangeException(nameof(x), x, "x must be non-negative.");
        if (x == 0) return 1;
        double logFront = a * Math.Log(x) - x - LogGamma(a);
        if (x < a + 1)
        {
            // series for P(a, x) = e^{−x} x^a / Γ(a+1) · Σ x^n / ((a+1)…(a+n))
            double term = 1 / a, sum = term;
            for (int n = 1; n <= 1000; n++)
            {
                term *= x / (a + n);
                sum += term;
                if (Math.Abs(term) < Math.Abs(sum) * 1e-17) break;
            }
            return 1 - sum * Math.Exp(logFront);
        }
        // continued fraction for Q(a, x) (Lentz)
        const double tiny = 1e-300;
        double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
        for (int i = 1; i <= 1000; i++)
        {
            double an = -i * (i - a);
            b += 2;
            d = an * d + b; if (Math.Abs(d) < tiny) d = tiny;
            c = b + an / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return Math.Exp(logFront) * h;
    }
}
