using System.Diagnostics;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Times a short operation: warm-up (JIT tiers, caches, thread pool), then a repeat count
/// chosen so one sample lasts ≥ <c>minSampleSeconds</c>, and the median over samples (robust
/// to the other work sharing these 2 cores). With SHARPCTR_BENCH_MIN=1 it takes the minimum of
/// 301 short samples instead: on a machine shared with other jobs some short samples run
/// uninterrupted, so the minimum approaches the idle time where the median does not (use it
/// for A/B comparisons of one-thread kernels on a busy machine; say so when reporting).
/// </summary>
public static class BenchTimer
{
    public static double MedianSecondsPerCall(Action op, double minSampleSeconds = 0.02, int samples = 11)
    {
        bool useMin = Environment.GetEnvironmentVariable("SHARPCTR_BENCH_MIN") == "1";
        if (useMin) { minSampleSeconds = 0.002; samples = 301; }
        op();
        int reps = 1;
        while (true)
        {
            double t = Sample(op, reps);
            if (t >= minSampleSeconds || reps >= 1 << 24) break;
            reps = t <= 0 ? reps * 16 : (int)Math.Min(1 << 24, Math.Max(reps * 2, reps * minSampleSeconds / t * 1.2));
        }
        // Let tiered compilation promote the hot code before measuring. 0.2 s was too short for
        // sub-millisecond operations made of many methods: a T5 encoder on the op graph read
        // 0.4–1.4 ms after it and 0.22 ms with the runtime's call-counting delay set to 0 — each
        // newly jitted method restarts that delay, and PGO adds an instrumented tier. So also at
        // least 2,000 calls, within 2 s.
        var warm = Stopwatch.StartNew();
        long calls = 0;
        while (warm.Elapsed.TotalSeconds < 0.2 || (calls < 2000 && warm.Elapsed.TotalSeconds < 2)) { Sample(op, reps); calls += reps; }
        var times = new double[samples];
        for (int i = 0; i < samples; i++) times[i] = Sample(op, reps) / reps;
        Array.Sort(times);
        return useMin ? times[0] : times[samples / 2];
    }

    private static double Sample(Action op, int reps)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < reps; i++) op();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
