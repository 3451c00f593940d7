using System.Globalization;
using System.Text;

namespace SharpCtr.Training.Reports;

/// <summary>
/// The frame shared by the SVG charts: a plot area inside margins, linear data→pixel maps,
/// axes with ticks and grid lines, title, axis labels and a legend. Plain SVG 1.1 with no
/// scripts or external fonts, so figures render the same in a browser, Inkscape or LaTeX.
/// </summary>
internal sealed class SvgCanvas
{
    // Tableau 10: distinguishable, print-friendly colours.
    public static readonly string[] Palette =
        ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

    const double Left = 64, Right = 150, Top = 36, Bottom = 52;
    readonly StringBuilder _sb = new();
    public int Width { get; }
    public int Height { get; }
    public NiceTicks X { get; }
    public NiceTicks Y { get; }
    public double PlotLeft => Left;
    public double PlotRight => Width - Right;
    public double PlotTop => Top;
    public double PlotBottom => Height - Bottom;

    public SvgCanvas(int width, int height, NiceTicks x, NiceTicks y)
    {
        if (width < 240 || height < 160) throw new ArgumentException($"Chart size {width}×{height} is too small; use at least 240×160.");
        Width = width; Height = height; X = x; Y = y;
        _sb.Append(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n");
        _sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
    }

    public double Px(double x) => PlotLeft + (x - X.Min) / (X.Max - X.Min) * (PlotRight - PlotLeft);
    public double Py(double y) => PlotBottom - (y - Y.Min) / (Y.Max - Y.Min) * (PlotBottom - PlotTop);

    public void Raw(string element) => _sb.Append(element).Append('\n');

    public static string N(double v) => Math.Round(v, 2).ToString("0.##", CultureInfo.InvariantCulture);

    public static string Escape(string s) =>
        s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");

    public void Text(double x, double y, string text, string anchor = "middle", string extra = "") =>
        Raw($"<text x=\"{N(x)}\" y=\"{N(y)}\" text-anchor=\"{anchor}\"{extra}>{Escape(text)}</text>");

    /// <summary>Axes, grid and ticks. xLabels, when given, replace numeric x tick labels (categories).</summary>
    public void Axes(string title, string xLabel, string yLabel, IReadOnlyList<(double X, string Label)>? xCategories = null)
    {
        Raw("<g class=\"grid\" stroke=\"#e0e0e0\" stroke-width=\"1\">");
        for (int i = 0; i < Y.Count; i++)
            Raw($"<line x1=\"{N(PlotLeft)}\" y1=\"{N(Py(Y[i]))}\" x2=\"{N(PlotRight)}\" y2=\"{N(Py(Y[i]))}\"/>");
        Raw("</g>");
        Raw($"<g class=\"axes\" stroke=\"black\" stroke-width=\"1\"><line class=\"x-axis\" x1=\"{N(PlotLeft)}\" y1=\"{N(PlotBottom)}\" x2=\"{N(PlotRight)}\" y2=\"{N(PlotBottom)}\"/>" +
            $"<line class=\"y-axis\" x1=\"{N(PlotLeft)}\" y1=\"{N(PlotTop)}\" x2=\"{N(PlotLeft)}\" y2=\"{N(PlotBottom)}\"/></g>");

        Raw("<g class=\"x-ticks\">");
        if (xCategories == null)
            for (int i = 0; i < X.Count; i++) XTick(Px(X[i]), X.Label(X[i]));
        else
            foreach (var (x, label) in xCategories) XTick(Px(x), label);
        Raw("</g>");
        Raw("<g class=\"y-ticks\">");
        for (int i = 0; i < Y.Count; i++)
        {
            double y = Py(Y[i]);
            Raw($"<line x1=\"{N(PlotLeft - 5)}\" y1=\"{N(y)}\" x2=\"{N(PlotLeft)}\" y2=\"{N(y)}\" stroke=\"black\"/>");
            Text(PlotLeft - 8, y + 4, Y.Label(Y[i]), "end");
        }
        Raw("</g>");

        Text((PlotLeft + PlotRight) / 2, 22, title, "middle", " class=\"title\" font-size=\"14\" font-weight=\"bold\"");
        Text((PlotLeft + PlotRight) / 2, Height - 12, xLabel, "middle", " class=\"x-label\"");
        double cy = (PlotTop + PlotBottom) / 2;
        Text(16, cy, yLabel, "middle", $" class=\"y-label\" transform=\"rotate(-90 16 {N(cy)})\"");
    }

    void XTick(double x, string label)
    {
        Raw($"<line x1=\"{N(x)}\" y1=\"{N(PlotBottom)}\" x2=\"{N(x)}\" y2=\"{N(PlotBottom + 5)}\" stroke=\"black\"/>");
        Text(x, PlotBottom + 18, label);
    }

    /// <summary>Legend to the right of the plot; marker is "line", "bar" or "dot".</summary>
    public void Legend(IReadOnlyList<string> names, string marker)
    {
        Raw("<g class=\"legend\">");
        for (int i = 0; i < names.Count; i++)
        {
            double x = PlotRight + 14, y = PlotTop + 8 + 18 * i;
            string color = Palette[i % Palette.Length];
            Raw(marker switch
            {
                "line" => $"<line x1=\"{N(x)}\" y1=\"{N(y)}\" x2=\"{N(x + 18)}\" y2=\"{N(y)}\" stroke=\"{color}\" stroke-width=\"2\"/>",
                "bar" => $"<rect x=\"{N(x + 3)}\" y=\"{N(y - 6)}\" width=\"12\" height=\"12\" fill=\"{color}\"/>",
                _ => $"<circle cx=\"{N(x + 9)}\" cy=\"{N(y)}\" r=\"4\" fill=\"{color}\"/>",
            });
            Text(x + 24, y + 4, names[i], "start");
        }
        Raw("</g>");
    }

    public string Finish() => _sb.Append("</svg>\n").ToString();
}
