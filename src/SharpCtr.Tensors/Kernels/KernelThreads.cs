namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// How many cores the kernels may use, and when using more than one pays. Every kernel splits
/// work only along independent rows (or output blocks, or fixed-size chunks whose partial sums
/// are combined in chunk order), so results are bit-identical for 1 or 2 threads.
/// </summary>
public static class KernelThreads
{
    /// <summary>Most threads a kernel uses (the machine has 2 cores; tests set 1 to compare). Process-wide;
    /// OpenBLAS never gets more than this, since its thread count is global to the process.</summary>
    public static int Max { get; set; } = Math.Clamp(Environment.ProcessorCount, 1, 2);

    [ThreadStatic] static int threadAllowance;   // 0: none, Max applies

    /// <summary>Threads the managed kernels called from this thread may use: the allowance of
    /// <see cref="Allow"/> when one is active, otherwise <see cref="Max"/>.</summary>
    public static int ForThisThread => threadAllowance > 0 ? threadAllowance : Max;

    /// <summary>
    /// Lets the managed kernels called from this thread use up to <paramref name="threads"/>
    /// threads until the returned scope is disposed, whatever <see cref="Max"/> says. The scoring
    /// service runs requests one thread each (Max = 1) but gives a request both cores when it is
    /// the only one in flight. Kernels split only along independent rows, so results do not change.
    /// </summary>
    public static Allowance Allow(int threads)
    {
        var scope = new Allowance(threadAllowance);
        threadAllowance = Math.Max(1, threads);
        return scope;
    }

    public readonly struct Allowance(int previous) : IDisposable
    {
        public void Dispose() => threadAllowance = previous;
    }

    /// <summary>Elementwise work (in floats touched) below which a kernel stays on one thread:
    /// waking a second thread costs a few microseconds.</summary>
    public static int MinParallelElements { get; set; } = 1 << 16;

    /// <summary>Number of workers for a job of this size.</summary>
    internal static int For(long work, long minWork) => work < minWork ? 1 : ForThisThread;

    internal static int ForElements(long elements) => For(elements, MinParallelElements);

    /// <summary>Multiply-adds below which the fused inference kernels stay on one thread (~20 µs
    /// of work: a second thread's start and join would cost more than it saves).</summary>
    internal const long MinParallelMacs = 2_000_000;

    /// <summary>Runs <paramref name="job"/> over [0, count) split into <paramref name="workers"/>
    /// contiguous ranges. The single-thread path allocates nothing.</summary>
    internal static void Run<TJob>(in TJob job, int count, int workers) where TJob : struct, IRangeJob
    {
        if (workers <= 1 || count <= 1)
        {
            job.Run(0, count);
            return;
        }
        KernelWorkers.Run(job, count, Math.Min(workers, count));
    }
}

/// <summary>A kernel's body over a range of rows (or items); a struct so the serial path is a direct call.</summary>
internal interface IRangeJob
{
    void Run(int start, int end);
}
