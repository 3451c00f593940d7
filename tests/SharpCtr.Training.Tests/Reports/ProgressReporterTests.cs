using SharpCtr.Training.Progress;

namespace SharpCtr.Training.Tests.Reports;

public class ProgressReporterTests
{
    sealed class FakeClock
    {
        public TimeSpan Now;
        public TimeSpan Read() => Now;
    }

    [Fact]
    public void Terminal_redraws_one_line_with_carriage_returns_and_throttles()
    {
        var clock = new FakeClock();
        var w = new StringWriter();
        var p = new ProgressReporter(w, interactive: true, "epoch 1/2", 100_000, clock.Read);
        clock.Now = TimeSpan.FromSeconds(1);
        p.Report(10_000, new LossTerm("bce", 0.5), new LossTerm("aux", 0.125));
        clock.Now = TimeSpan.FromSeconds(1.05); // within the redraw interval: nothing printed
        p.Report(10_500, new LossTerm("bce", 0.49));
        clock.Now = TimeSpan.FromSeconds(2);
        p.Report(20_000, new LossTerm("bce", 0.45));
        clock.Now = TimeSpan.FromSeconds(10);
        p.Finish(100_000, new LossTerm("bce", 0.40));

        string s = w.ToString();
        Assert.Equal(3, s.Count(c => c == '\r'));
        Assert.Equal(1, s.Count(c => c == '\n')); // only Finish ends the line
        // 10,000 samples in 1 s → 10,000/s; 90,000 left → ETA 9 s
        Assert.Contains("epoch 1/2  10.0% 10,000/100,000  bce 0.5000  aux 0.1250  10,000 samples/s  ETA 0:09", s);
        Assert.DoesNotContain("10,500", s);
        Assert.Contains("100.0% 100,000/100,000  bce 0.4000  10,000 samples/s  took 0:10", s);
    }

    [Fact]
    public void Redirected_output_writes_plain_lines_at_the_log_interval()
    {
        var clock = new FakeClock();
        var w = new StringWriter();
        var p = new ProgressReporter(w, interactive: false, "", 0, clock.Read) { LogInterval = TimeSpan.FromSeconds(30) };
        for (int second = 0; second <= 100; second++)
        {
            clock.Now = TimeSpan.FromSeconds(second);
            p.Report(second * 1000L, new LossTerm("loss", 0.3));
        }
        p.Finish(100_000);
        var lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // first call starts the clock; lines at 30, 60, 90 s; then the final line
        Assert.Equal(4, lines.Length);
        Assert.DoesNotContain('\r', w.ToString());
        Assert.StartsWith("30,000  loss 0.3000  1,000 samples/s", lines[0]);
        Assert.Contains("took 1:40", lines[3]);
    }

    [Fact]
    public void Clock_formats_hours()
    {
        Assert.Equal("0:05", ProgressReporter.Clock(4.6));
        Assert.Equal("1:02:03", ProgressReporter.Clock(3723));
    }
}
