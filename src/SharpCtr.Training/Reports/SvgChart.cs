using SharpCtr.Tensors.IO;

namespace SharpCtr.Training.Reports;

/// <summary>
/// A line or grouped-bar chart as SVG, for paper figures such as hyper-parameter sweeps
/// (x = the swept value, one series per model or metric).
/// </summary>
public sealed class SvgChart
{
    public string Title { get; init; } = "";
    public string XLabel { get; init; } = "";
    public string YLabel { get; init; } = "";
    public ChartKind Kind { get; init; } = ChartKind.Line;
    public required IReadOnlyList<ChartSeries> Series { get; init; }
    public int Width { get; init; } = 640;
    public int Height { get; init; } = 400;
    /// <summary>Stretch the y axis to include 0 (bar heights then read as magnitudes).</summary>
    public bool IncludeZero { get; init; }

    public string Render()
    {
        if (Series.Count == 0) throw new ArgumentException($"Chart '{Title}' has no series.");
        double xMin = double.PositiveInfinity, xMax = double.NegativeInfinity;
        double yMin = IncludeZero ? 0 : double.PositiveInfinity, yMax = IncludeZero ? 0 : double.NegativeInfinity;
        foreach (var s in Series)
        {
            s.Check();
            for (int i = 0; i < s.X.Length; i++)
            {
                xMin = Math.Min(xMin, s.X[i]); xMax = Math.Max(xMax, s.X[i]);
                yMin = Math.Min(yMin, s.Y[i]); yMax = Math.Max(yMax, s.Y[i]);
            }
        }
        if (double.IsInfinity(xMin)) throw new ArgumentException($"Chart '{Title}' has no points.");
        return Kind == ChartKind.Line ? RenderLine(xMin, xMax, yMin, yMax) : RenderBar(yMin, yMax);
    }

    public void Write(string path) => AtomicFile.WriteAllText(path, Render());

    string RenderLine(double xMin, double xMax, double yMin, double yMax)
    {
        var c = new SvgCanvas(Width, Height, NiceTicks.For(xMin, xMax), NiceTicks.For(yMin, yMax));
        c.Axes(Title, XLabel, YLabel);
        for (int k = 0; k < Series.Count; k++)
        {
            var s = Series[k];
            string color = SvgCanvas.Palette[k % SvgCanvas.Palette.Length];
            var order = Enumerable.Range(0, s.X.Length).OrderBy(i => s.X[i]).ToArray();
            var points = string.Join(" ", order.Select(i => SvgCanvas.N(c.Px(s.X[i])) + "," + SvgCanvas.N(c.Py(s.Y[i]))));
            c.Raw($"<g class=\"series\" data-name=\"{SvgCanvas.Escape(s.Name)}\">");
            c.Raw($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{points}\"/>");
            foreach (var i in order)
                c.Raw($"<circle cx=\"{SvgCanvas.N(c.Px(s.X[i]))}\" cy=\"{SvgCanvas.N(c.Py(s.Y[i]))}\" r=\"3\" fill=\"{color}\"/>");
            c.Raw("</g>");
        }
        c.Legend(Series.Select(s => s.Name).ToArray(), "line");
        return c.Finish();
    }

    string RenderBar(double yMin, double yMax)
    {
        var categories = Series.SelectMany(s => s.X).Distinct().Order().ToArray();
        // Categories sit at 0.5, 1.5, … on an x axis from 0 to the count.
        var x = new NiceTicks(0, categories.Length, 1);
        var c = new SvgCanvas(Width, Height, x, NiceTicks.For(yMin, yMax));
        var labels = new List<(double, string)>();
        for (int i = 0; i < categories.Length; i++) labels.Add((i + 0.5, ShortNumber(categories[i])));
        c.Axes(Title, XLabel, YLabel, labels);

        double slot = (c.PlotRight - c.PlotLeft) / categories.Length;
        double barWidth = slot * 0.8 / Series.Count;
        double origin = c.Py(Math.Clamp(0, c.Y.Min, c.Y.Max));
        for (int k = 0; k < Series.Count; k++)
        {
            var s = Series[k];
            string color = SvgCanvas.Palette[k % SvgCanvas.Palette.Length];
            c.Raw($"<g class=\"series\" data-name=\"{SvgCanvas.Escape(s.Name)}\">");
            for (int i = 0; i < s.X.Length; i++)
            {
                int cat = Array.IndexOf(categories, s.X[i]);
                double left = c.PlotLeft + cat * slot + slot * 0.1 + k * barWidth;
                double top = Math.Min(origin, c.Py(s.Y[i])), height = Math.Abs(origin - c.Py(s.Y[i]));
                c.Raw($"<rect class=\"bar\" x=\"{SvgCanvas.N(left)}\" y=\"{SvgCanvas.N(top)}\" width=\"{SvgCanvas.N(barWidth)}\" height=\"{SvgCanvas.N(height)}\" fill=\"{color}\"/>");
            }
            c.Raw("</g>");
        }
        c.Legend(Series.Select(s => s.Name).ToArray(), "bar");
        return c.Finish();
    }

    static string ShortNumber(double v) => v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture);
}
