namespace SharpCtr.Models.Diffusion;

/// <summary>
/// A DDPM noise schedule: β_1..β_T linear, α_t = 1 − β_t, ᾱ_t = Π_{s≤t} α_s (ᾱ_0 = 1, the clean
/// data), plus a strided sub-schedule for fast sampling (respacing: the reverse process visits
/// only K of the T steps, and each of its steps uses the β' that makes the sub-chain's marginals
/// equal the full chain's: β'_k = 1 − ᾱ_{τ_k} / ᾱ_{τ_{k−1}}).
/// </summary>
public sealed class DiffusionSchedule
{
    public readonly int Steps;
    /// <summary>[T + 1]: index t, Beta[0] = 0.</summary>
    public readonly double[] Beta;
    /// <summary>[T + 1]: ᾱ_t, AlphaBar[0] = 1.</summary>
    public readonly double[] AlphaBar;

    public DiffusionSchedule(int steps, double betaStart, double betaEnd)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), $"diffusion steps must be ≥ 1, got {steps}");
        if (!(betaStart > 0 && betaEnd < 1 && betaStart <= betaEnd))
            throw new ArgumentOutOfRangeException(nameof(betaStart), $"need 0 < beta_start ≤ beta_end < 1, got {betaStart}, {betaEnd}");
        Steps = steps;
        Beta = new double[steps + 1];
        AlphaBar = new double[steps + 1];
        AlphaBar[0] = 1;
        for (int t = 1; t <= steps; t++)
        {
            Beta[t] = steps == 1 ? betaStart : betaStart + (betaEnd - betaStart) * (t - 1) / (steps - 1);
            AlphaBar[t] = AlphaBar[t - 1] * (1 - Beta[t]);
        }
    }

    /// <summary>The coefficients of x_t = a·x0 + b·ε.</summary>
    public (float SignalScale, float NoiseScale) Marginal(int t) => ((float)Math.Sqrt(AlphaBar[t]), (float)Math.Sqrt(1 - AlphaBar[t]));

    /// <summary>
    /// The K visited steps τ_K = start &gt; … &gt; τ_1 ≥ 1, evenly strided, ending at 0 (the clean
    /// data): element k is (τ_k, τ_{k−1}), in the order the reverse process runs them.
    /// </summary>
    public (int From, int To)[] Respaced(int start, int count)
    {
        if (start < 1 || start > Steps) throw new ArgumentOutOfRangeException(nameof(start), $"start step must be in 1..{Steps}, got {start}");
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), $"need at least one reverse step, got {count}");
        count = Math.Min(count, start);
        var taus = new int[count + 1];
        for (int k = 1; k <= count; k++) taus[k] = (int)Math.Round((double)start * k / count);
        var pairs = new (int, int)[count];
        for (int k = count; k >= 1; k--) pairs[count - k] = (taus[k], taus[k - 1]);
        return pairs;
    }

    /// <summary>
    /// One deterministic reverse step from step <paramref name="from"/> to <paramref name="to"/>
    /// (the DDPM posterior mean with z = 0, under the respaced β'):
    /// x_to = (x_from − β'/sqrt(1 − ᾱ_from)·ε̂) / sqrt(1 − β'). Returns (1/sqrt(1 − β'), β'/(sqrt(1 − β')·sqrt(1 − ᾱ_from))),
    /// so x_to = c1·x_from − c2·ε̂.
    /// </summary>
    public (float XScale, float EpsScale) ReverseCoefficients(int from, int to)
    {
        if (!(0 <= to && to < from && from <= Steps)) throw new ArgumentOutOfRangeException(nameof(from), $"need 0 ≤ to < from ≤ {Steps}, got {from} → {to}");
        double beta = 1 - AlphaBar[from] / AlphaBar[to];
        double inv = 1 / Math.Sqrt(1 - beta);
        return ((float)inv, (float)(inv * beta / Math.Sqrt(1 - AlphaBar[from])));
    }
}
