using SharpCtr.Tensors.IO;

namespace SharpCtr.Training.Reports;

/// <summary>
/// A scatter plot as SVG, coloured by class (e.g. a t-SNE of embeddings coloured by genre or
/// by clicked / not clicked). Points are drawn semi-transparent so dense regions read darker.
/// </summary>
public sealed class SvgScatter
{
    public string Title { get; init; } = "";
    public string XLabel { get; init; } = "";
    public string YLabel { get; init; } = "";
    public required double[] X { get; init; }
    public required double[] Y { get; init; }
    /// <summary>Class index per point into <see cref="ClassNames"/>; all zeros when null.</summary>
    public int[]? Classes { get; init; }
    public IReadOnlyList<string> ClassNames { get; init; } = ["points"];
    public int Width { get; init; } = 560;
    public int Height { get; init; } = 480;
    public double Radius { get; init; } = 2.5;

    public string Render()
    {
        new ChartSeries(Title, X, Y).Check();
        if (X.Length == 0) throw new ArgumentException($"Scatter '{Title}' has no points.");
        if (Classes != null && Classes.Length != X.Length)
            throw new ArgumentException($"Scatter '{Title}': {Classes.Length} classes for {X.Length} points.");
        double xMin = double.PositiveInfinity, xMax = double.NegativeInfinity, yMin = double.PositiveInfinity, yMax = double.NegativeInfinity;
        for (int i = 0; i < X.Length; i++)
        {
            xMin = Math.Min(xMin, X[i]); xMax = Math.Max(xMax, X[i]);
            yMin = Math.Min(yMin, Y[i]); yMax = Math.Max(yMax, Y[i]);
        }
        var c = new SvgCanvas(Width, Height, NiceTicks.For(xMin, xMax), NiceTicks.For(yMin, yMax));
        c.Axes(Title, XLabel, YLabel);
        // One group per class so a class can be styled or hidden as a whole.
        for (int k = 0; k < ClassNames.Count; k++)
        {
            string color = SvgCanvas.Palette[k % SvgCanvas.Palette.Length];
            c.Raw($"<g class=\"class\" data-name=\"{SvgCanvas.Escape(ClassNames[k])}\" fill=\"{color}\" fill-opacity=\"0.7\">");
            for (int i = 0; i < X.Length; i++)
            {
                int cls = Classes?[i] ?? 0;
                if (cls < 0 || cls >= ClassNames.Count)
                    throw new ArgumentException($"Scatter '{Title}': point {i} has class {cls}, but only {ClassNames.Count} class names.");
                if (cls == k) c.Raw($"<circle cx=\"{SvgCanvas.N(c.Px(X[i]))}\" cy=\"{SvgCanvas.N(c.Py(Y[i]))}\" r=\"{SvgCanvas.N(Radius)}\"/>");
            }
            c.Raw("</g>");
        }
        c.Legend(ClassNames, "dot");
        return c.Finish();
    }

    public void Write(string path) => AtomicFile.WriteAllText(path, Render());
}
