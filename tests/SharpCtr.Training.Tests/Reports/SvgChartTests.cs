using System.Xml.Linq;
using SharpCtr.Training.Reports;

namespace SharpCtr.Training.Tests.Reports;

public class SvgChartTests
{
    static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    static ChartSeries[] Sweep() =>
    [
        new("DeepFM", [8, 16, 32, 64], [0.880, 0.884, 0.885, 0.883]),
        new("DIN <ours>", [8, 16, 32, 64], [0.879, 0.886, 0.889, 0.888]),
    ];

    [Fact]
    public void Line_chart_has_one_polyline_per_series_axes_ticks_and_legend()
    {
        var svg = new SvgChart { Title = "Embedding size", XLabel = "d", YLabel = "AUC", Series = Sweep() }.Render();
        var doc = XDocument.Parse(svg); // also proves escaping of "<ours>"
        Assert.Equal(Svg + "svg", doc.Root!.Name);
        Assert.Equal(2, doc.Descendants(Svg + "polyline").Count());
        var first = doc.Descendants(Svg + "polyline").First().Attribute("points")!.Value.Split(' ');
        Assert.Equal(4, first.Length);
        Assert.Equal(8, doc.Descendants(Svg + "circle").Count());

        var texts = doc.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Contains("Embedding size", texts);
        Assert.Contains("AUC", texts);
        Assert.Contains("DIN <ours>", texts);
        // x from 8 to 64 with steps of 20 → nice ticks 0, 20, 40, 60, 80; y 0.879–0.889: raw step 0.0025 → 0.005, so 0.875 … 0.890 (3 decimals)
        var xTicks = doc.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "x-ticks").Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Equal(["0", "20", "40", "60", "80"], xTicks);
        var yTicks = doc.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "y-ticks").Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Equal(["0.875", "0.880", "0.885", "0.890"], yTicks);

        // Higher AUC is drawn higher: a smaller SVG y.
        var dinPoints = doc.Descendants(Svg + "polyline").Last().Attribute("points")!.Value.Split(' ')
            .Select(p => double.Parse(p.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.True(dinPoints[2] < dinPoints[0]);
    }

    [Fact]
    public void Bar_chart_has_one_bar_per_series_and_category()
    {
        var svg = new SvgChart { Title = "t", Kind = ChartKind.Bar, IncludeZero = true, Series = Sweep() }.Render();
        var doc = XDocument.Parse(svg);
        var bars = doc.Descendants(Svg + "rect").Where(r => (string?)r.Attribute("class") == "bar").ToList();
        Assert.Equal(8, bars.Count);
        Assert.All(bars, b => Assert.True(double.Parse(b.Attribute("height")!.Value, System.Globalization.CultureInfo.InvariantCulture) > 0));
        var xTicks = doc.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "x-ticks").Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Equal(["8", "16", "32", "64"], xTicks);
    }

    [Fact]
    public void Bad_series_is_a_clear_error()
    {
        var e = Assert.Throws<ArgumentException>(() => new SvgChart { Series = [new ChartSeries("s", [1, 2], [1])] }.Render());
        Assert.Contains("'s'", e.Message);
        Assert.Throws<ArgumentException>(() => new SvgChart { Series = [new ChartSeries("s", [1], [double.NaN])] }.Render());
    }

    [Fact]
    public void Scatter_draws_every_point_in_its_class_group()
    {
        var rng = new Random(2);
        int n = 300;
        var x = new double[n]; var y = new double[n]; var cls = new int[n];
        for (int i = 0; i < n; i++) { x[i] = rng.NextDouble() * 10 - 5; y[i] = rng.NextDouble(); cls[i] = i % 3; }
        var dir = Path.Combine(Path.GetTempPath(), "sharpctr-svg-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = Path.Combine(dir, "tsne.svg");
            new SvgScatter { Title = "t-SNE", X = x, Y = y, Classes = cls, ClassNames = ["Action", "Comedy", "Drama & Co"] }.Write(path);
            var doc = XDocument.Load(path);
            var groups = doc.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "class").ToList();
            Assert.Equal(3, groups.Count);
            Assert.All(groups, g => Assert.Equal(100, g.Elements(Svg + "circle").Count()));
            Assert.Equal("Drama & Co", (string?)groups[2].Attribute("data-name"));
            // every point inside the plot area
            foreach (var c in doc.Descendants(Svg + "circle"))
            {
                double cx = double.Parse(c.Attribute("cx")!.Value, System.Globalization.CultureInfo.InvariantCulture);
                Assert.InRange(cx, 0, 560);
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Nice_ticks_are_round()
    {
        var t = NiceTicks.For(0.8312, 0.8897);
        // raw step 0.0585/4 = 0.0146 → 0.02; range widened to 0.82–0.90
        Assert.Equal(0.02, t.Step, 1e-12);
        Assert.Equal(0.82, t.Min, 1e-12);
        Assert.Equal(0.90, t.Max, 1e-12);
        Assert.Equal(5, t.Count);
        Assert.Equal("0.86", t.Label(t[2]));
        var flat = NiceTicks.For(3, 3);
        Assert.True(flat.Min < 3 && flat.Max > 3);
    }
}
