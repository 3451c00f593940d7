using System.Diagnostics;

namespace SharpCtr.Serving.Service;

/// <summary>
/// Where score requests spend their time, summed per stage since the service started (read
/// twice and subtract for a window). Stages cover the handler from the body's first byte to the
/// serialized answer; Kestrel's own parsing and socket writes are outside them.
/// </summary>
public sealed class StageTimes
{
    public enum Stage { Parse, History, Queue, Encode, Forward, Write }
    public static readonly string[] Names = ["json_parse", "history_read", "queue_wait", "encode", "forward", "json_write"];

    readonly long[] ticks = new long[Names.Length];
    long requests;

    /// <summary>Adds the time since <paramref name="since"/> (a Stopwatch timestamp) to a stage and returns now.</summary>
    public long Add(Stage stage, long since)
    {
        long now = Stopwatch.GetTimestamp();
        Interlocked.Add(ref ticks[(int)stage], now - since);
        return now;
    }

    public void CountRequest() => Interlocked.Increment(ref requests);

    public sealed record Snapshot(long Requests, double[] Seconds)
    {
        /// <summary>Mean milliseconds per request of each stage between <paramref name="earlier"/> and this.</summary>
        public double[] MeanMsSince(Snapshot earlier)
        {
            long n = Math.Max(1, Requests - earlier.Requests);
            var ms = new double[Seconds.Length];
            for (int i = 0; i < ms.Length; i++) ms[i] = (Seconds[i] - earlier.Seconds[i]) * 1000 / n;
            return ms;
        }
    }

    public Snapshot Read()
    {
        var s = new double[ticks.Length];
        for (int i = 0; i < s.Length; i++) s[i] = Interlocked.Read(ref ticks[i]) / (double)Stopwatch.Frequency;
        return new Snapshot(Interlocked.Read(ref requests), s);
    }
}
