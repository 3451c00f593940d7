namespace SharpCtr.Training.Metrics;

/// <summary>
/// Mean binary cross-entropy with probabilities clipped to [1e-7, 1 − 1e-7] (protocols.md), so
/// one confident mistake costs at most −ln(1e-7) ≈ 16.1 instead of infinity. Logits are turned
/// into probabilities first and clipped the same way, so both entry points agree.
/// </summary>
public static class LogLoss
{
    public const double Epsilon = 1e-7;

    public static double FromProbabilities(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> labels)
    {
        MetricInput.CheckLengths("LogLoss", probabilities.Length, labels.Length);
        if (probabilities.Length == 0) throw new ArgumentException("LogLoss: no rows.");
        double sum = 0;
        for (int i = 0; i < probabilities.Length; i++)
        {
            float p = probabilities[i];
            if (!(p >= 0f && p <= 1f))
                throw new ArgumentException($"LogLoss: probability at row {i} is {p}; it must lie in [0, 1] (pass logits to FromLogits).");
            sum += Term(p, MetricInput.Label("LogLoss", labels[i], i));
        }
        return sum / probabilities.Length;
    }

    public static double FromLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels)
    {
        MetricInput.CheckLengths("LogLoss", logits.Length, labels.Length);
        if (logits.Length == 0) throw new ArgumentException("LogLoss: no rows.");
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double z = MetricInput.Score("LogLoss", logits[i], i);
            sum += Term(1.0 / (1.0 + Math.Exp(-z)), MetricInput.Label("LogLoss", labels[i], i));
        }
        return sum / logits.Length;
    }

    static double Term(double p, byte label)
    {
        p = Math.Clamp(p, Epsilon, 1 - Epsilon);
        return label != 0 ? -Math.Log(p) : -Math.Log(1 - p);
    }
}
