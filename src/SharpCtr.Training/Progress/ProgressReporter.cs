using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SharpCtr.Training.Progress;

/// <summary>
/// Training progress: loss terms, samples/s and ETA. On a terminal it redraws one line with
/// '\r' (at most every <see cref="RedrawInterval"/>); when output is redirected to a file or
/// pipe it writes plain log lines every <see cref="LogInterval"/>, so logs stay readable and
/// small. Call <see cref="Report"/> every batch: between prints it only compares a clock.
/// </summary>
public sealed class ProgressReporter
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    readonly TextWriter _out;
    readonly Func<TimeSpan> _elapsed;
    readonly string _label;
    readonly long _total;
    TimeSpan _lastPrint = TimeSpan.MinValue;
    int _lastLineLength;

    public bool Interactive { get; }
    public TimeSpan RedrawInterval { get; init; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan LogInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <param name="output">where lines go</param>
    /// <param name="interactive">true: one '\r'-updated line; false: periodic log lines</param>
    /// <param name="label">prefix such as "epoch 3/20"</param>
    /// <param name="totalSamples">samples this reporter will see (for % and ETA); 0 if unknown</param>
    /// <param name="elapsed">time since start; a stopwatch unless a test injects a clock</param>
    public ProgressReporter(TextWriter output, bool interactive, string label, long totalSamples, Func<TimeSpan>? elapsed = null)
    {
        _out = output;
        Interactive = interactive;
        _label = label;
        _total = totalSamples;
        if (elapsed == null)
        {
            var sw = Stopwatch.StartNew();
            elapsed = () => sw.Elapsed;
        }
        _elapsed = elapsed;
    }

    /// <summary>Writes to the console: a live line on a terminal, log lines when redirected.</summary>
    public static ProgressReporter ForConsole(string label, long totalSamples) =>
        new(Console.Out, !Console.IsOutputRedirected, label, totalSamples);

    public void Report(long samplesDone, params ReadOnlySpan<LossTerm> losses)
    {
        var now = _elapsed();
        var interval = Interactive ? RedrawInterval : LogInterval;
        if (_lastPrint != TimeSpan.MinValue && now - _lastPrint < interval) return;
        // The first call only starts the log clock when redirected: a line at 0 samples says nothing.
        if (!Interactive && _lastPrint == TimeSpan.MinValue) { _lastPrint = now; return; }
        _lastPrint = now;
        Print(Format(samplesDone, now, losses, finished: false));
    }

    /// <summary>Prints the final state (always) and ends the live line.</summary>
    public void Finish(long samplesDone, params ReadOnlySpan<LossTerm> losses)
    {
        Print(Format(samplesDone, _elapsed(), losses, finished: true));
        if (Interactive) _out.WriteLine();
        _out.Flush();
    }

    void Print(string line)
    {
        if (Interactive)
        {
            // Pad over the previous line's tail; '\r' alone does not erase it.
            int pad = Math.Max(0, _lastLineLength - line.Length);
            _out.Write('\r');
            _out.Write(line);
            if (pad > 0) _out.Write(new string(' ', pad));
            _lastLineLength = line.Length;
            _out.Flush();
        }
        else
        {
            _out.WriteLine(line);
        }
    }

    internal string Format(long done, TimeSpan elapsed, ReadOnlySpan<LossTerm> losses, bool finished)
    {
        var sb = new StringBuilder();
        if (_label.Length > 0) sb.Append(_label).Append("  ");
        if (_total > 0)
            sb.Append((100.0 * done / _total).ToString("F1", Inv)).Append("% ");
        sb.Append(done.ToString("N0", Inv));
        if (_total > 0) sb.Append('/').Append(_total.ToString("N0", Inv));
        foreach (var l in losses)
            sb.Append("  ").Append(l.Name).Append(' ').Append(l.Value.ToString("F4", Inv));
        double seconds = elapsed.TotalSeconds;
        double rate = seconds > 0 ? done / seconds : 0;
        sb.Append("  ").Append(rate.ToString("N0", Inv)).Append(" samples/s");
        if (finished)
            sb.Append("  took ").Append(Clock(seconds));
        else if (_total > 0 && rate > 0)
            sb.Append("  ETA ").Append(Clock(Math.Max(0, _total - done) / rate));
        return sb.ToString();
    }

    /// <summary>h:mm:ss, or m:ss under an hour.</summary>
    internal static string Clock(double seconds)
    {
        long s = (long)Math.Round(seconds);
        return s >= 3600
            ? $"{s / 3600}:{s / 60 % 60:D2}:{s % 60:D2}"
            : $"{s / 60}:{s % 60:D2}";
    }
}
