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
        double sum = 0;
        for (int i = 0; i < probabilities.Length; i++)
            sum += Term(Probability(probabilities[i], i), MetricInput.Label("LogLoss", labels[i], i));
        return Mean(sum, probabilities.Length);
    }

    public static double FromProbabilities(ReadOnlySpan<float> probabilities, ReadOnlySpan<byte> labels)
    {
        MetricInput.CheckLengths("LogLoss", probabilities.Length, labels.Length);
        double sum = 0;
        for (int i = 0; i < probabilities.Length; i++)
            sum += Term(Probability(probabilities[i], i), MetricInput.Label("LogLoss", labels[i], i));
        return Mean(sum, probabilities.Length);
    }

    public static double FromLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels)
    {
        MetricInput.CheckLengths("LogLoss", logits.Length, labels.Length);
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
            sum += Term(Sigmoid(logits[i], i), MetricInput.Label("LogLoss", labels[i], i));
        return Mean(sum, logits.Length);
    }

    public static double FromLogits(ReadOnlySpan<float> logits, ReadOnlySpan<byte> labels)
    {
        MetricInput.CheckLengths("LogLoss", logits.Length, labels.Length);
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
            sum += Term(Sigmoid(logits[i], i), MetricInput.Label("LogLoss", labels[i], i));
        return Mean(sum, logits.Length);
    }

    static double Probability(float p, int row)
    {
        if (!(p >= 0f && p <= 1f))
            throw new ArgumentException($"LogLoss: probability at row {row} is {p}; it must lie in [0, 1] (pass logits to FromLogits).");
        return p;
    }

    static double Sigmoid(float logit, int row) => 1.0 / (1.0 + Math.Exp(-(double)MetricInput.Score("LogLoss", logit, row)));

    static double Mean(double sum, int rows)
    {
        if (rows == 0) throw new ArgumentException("LogLoss: no rows.");
        return sum / rows;
    }

    static double Term(double p, byte label)
    {
        p = Math.Clamp(p, Epsilon, 1 - Epsilon);
        return label != 0 ? -Math.Log(p) : -Math.Log(1 - p);
    }
}
