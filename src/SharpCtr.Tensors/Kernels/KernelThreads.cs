namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// How many cores the kernels may use, and when using more than one pays. Every kernel splits
/// work only along independent rows (or output blocks) in chunks whose boundaries do not depend
/// on the thread count, so results are bit-identical for 1 or 2 threads.
/// </summary>
public static class KernelThreads
{
    /// <summary>Most threads a kernel uses (the machine has 2 cores; tests set 1 to compare).</summary>
    public static int Max { get; set; } = Math.Clamp(Environment.ProcessorCount, 1, 2);

    /// <summary>Elementwise work (in floats touched) below which a kernel stays on one thread:
    /// waking a second thread costs a few microseconds.</summary>
    public static int MinParallelElements { get; set; } = 1 << 17;

    /// <summary>Number of workers for a job of this size.</summary>
    internal static int For(long work, long minWork) => work < minWork ? 1 : Max;

    /// <summary>Runs <paramref name="body"/> over [0, count) split into <paramref name="workers"/>
    /// contiguous ranges. Ranges only change which thread does a row, never how a row is computed.</summary>
    internal static void Run(int count, int workers, Action<int, int> body)
    {
        if (workers <= 1 || count <= 1)
        {
            body(0, count);
            return;
        }
        workers = Math.Min(workers, count);
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            int start = (int)((long)count * w / workers);
            int end = (int)((long)count * (w + 1) / workers);
            if (end > start) body(start, end);
        });
    }
}
