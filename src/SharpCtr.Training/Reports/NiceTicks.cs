using System.Globalization;

namespace SharpCtr.Training.Reports;

/// <summary>
/// Axis ticks at 1, 2 or 5 × 10^k so labels read as round numbers, and an axis range widened
/// outward to whole ticks. Labels get just enough decimals to tell neighbouring ticks apart.
/// </summary>
public readonly record struct NiceTicks(double Min, double Max, double Step)
{
    public static NiceTicks For(double min, double max, int targetCount = 5)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max))
            throw new ArgumentException($"Axis range [{min}, {max}] is not finite.");
        if (min > max) (min, max) = (max, min);
        if (min == max)
        {
            double pad = min == 0 ? 1 : Math.Abs(min) * 0.1;
            min -= pad; max += pad;
        }
        double raw = (max - min) / Math.Max(1, targetCount - 1);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double fraction = raw / magnitude;
        double step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
        // The small tolerance keeps a max that is already on a tick from growing one more step.
        double lo = Math.Floor(min / step + 1e-9) * step;
        double hi = Math.Ceiling(max / step - 1e-9) * step;
        return new NiceTicks(lo, hi, step);
    }

    public int Count => (int)Math.Round((Max - Min) / Step) + 1;

    public double this[int i] => Min + i * Step;

    public string Label(double value)
    {
        int decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(Step) + 1e-9));
        if (Math.Abs(value) < Step * 1e-9) value = 0; // no "-0.00"
        return value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }
}
