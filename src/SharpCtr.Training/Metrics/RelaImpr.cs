namespace SharpCtr.Training.Metrics;

/// <summary>
/// Relative improvement over a base model's AUC, measured from the random-guess 0.5:
/// ((AUC_model − 0.5) / (AUC_base − 0.5) − 1) × 100, in percent (base = LR unless stated).
/// </summary>
public static class RelaImpr
{
    public static double Percent(double auc, double baseAuc)
    {
        if (!(baseAuc > 0.5))
            throw new ArgumentException($"RelaImpr: base AUC is {baseAuc}; it must exceed 0.5 to be a base.");
        return ((auc - 0.5) / (baseAuc - 0.5) - 1.0) * 100.0;
    }
}
