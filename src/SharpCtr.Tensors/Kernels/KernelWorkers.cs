using System.Runtime.ExceptionServices;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// The threads that run a parallel kernel's ranges besides its caller.
/// Parallel.For (used before) queued a pool task per kernel call: allocations and a wake-up each
/// time, and when the pool thread started late or was preempted, the caller sat waiting for its
/// half (DIN request on two threads: p50 1.0 ms but p99 2.6–4.1 ms). Here a job is cut into
/// <see cref="PartsPerWorker"/>× more parts than threads and every participant claims parts from
/// one counter, so a late helper only means the caller runs more of them. Kernels split only along
/// independent rows (or fixed chunks), so part boundaries and which thread runs a part never
/// change results.
/// Helpers are long-lived threads that spin briefly after each job (the next kernel of a step or
/// request follows within microseconds) and then sleep on an event. One job owns the helpers at a
/// time; a caller that finds them taken (another thread is inside a parallel kernel) runs its job
/// alone — same results, one core.
/// </summary>
internal static class KernelWorkers
{
    const int PartsPerWorker = 4;
    // How long a helper polls for the next job before sleeping: the kernels of one training step
    // or request follow each other within microseconds; between requests it should not hold a core.
    static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 20_000;   // 50 µs

    static readonly object helpersLock = new();
    static Helper[] helpers = [];
    static int owned;                    // 1 while a job owns the helpers

    // The job being run. Written by the owner before it bumps `generation` to an odd value (job
    // open); the owner bumps it to even (closed) once every part has finished, then waits until
    // no helper is between joining and leaving before the next job may overwrite these.
    static IRangeJob? job;
    static int count, parts, nextPart, finishedParts, helpersWanted;
    static int helpersJoined;            // helpers between joining and leaving; never reset, returns to 0

    // The exception of the lowest-numbered failing part: parts are ordered ranges, so that is the
    // error a serial run would have raised (e.g. the first out-of-range id), whichever thread hit it first.
    static ExceptionDispatchInfo? failure;
    static int failurePart;
    static readonly object failureLock = new();
    static long generation;

    public static void Run<TJob>(in TJob work, int count, int workers) where TJob : struct, IRangeJob
    {
        if (Interlocked.CompareExchange(ref owned, 1, 0) != 0)
        {
            work.Run(0, count);
            return;
        }
        try
        {
            var team = Helpers(workers - 1);
            KernelWorkers.count = count;
            parts = Math.Min(count, workers * PartsPerWorker);
            nextPart = 0;
            finishedParts = 0;
            helpersWanted = workers - 1;
            failure = null;
            job = work;                                   // one box per parallel call
            Interlocked.Increment(ref generation);        // publishes the fields above
            for (int h = 0; h < workers - 1; h++) team[h].Wake();
            RunParts();
            // The caller may still have to wait for a part a helper claimed; each is short.
            var spin = new SpinWait();
            while (Volatile.Read(ref finishedParts) < parts) spin.SpinOnce(sleep1Threshold: -1);
            // Helpers that never joined must not join this job late (they check the generation).
            Interlocked.Increment(ref generation);
            while (Volatile.Read(ref helpersJoined) > 0) spin.SpinOnce(sleep1Threshold: -1);
            job = null;
            failure?.Throw();
        }
        finally
        {
            Volatile.Write(ref owned, 0);
        }
    }

    /// <summary>Claims and runs parts until none are left.</summary>
    static void RunParts()
    {
        var current = job!;
        int total = parts, n = count;
        for (int p; (p = Interlocked.Increment(ref nextPart) - 1) < total;)
        {
            try
            {
                int start = (int)((long)n * p / total), end = (int)((long)n * (p + 1) / total);
                if (end > start) current.Run(start, end);
            }
            catch (Exception e)
            {
                lock (failureLock)
                    if (failure is null || p < failurePart) { failure = ExceptionDispatchInfo.Capture(e); failurePart = p; }
            }
            finally
            {
                Interlocked.Increment(ref finishedParts);
            }
        }
    }

    static Helper[] Helpers(int wanted)
    {
        var team = helpers;
        if (team.Length >= wanted) return team;
        lock (helpersLock)
        {
            if (helpers.Length < wanted)
            {
                var grown = new Helper[wanted];
                helpers.CopyTo(grown, 0);
                for (int i = helpers.Length; i < wanted; i++) grown[i] = new Helper(i);
                helpers = grown;
            }
            return helpers;
        }
    }

    sealed class Helper
    {
        readonly AutoResetEvent wake = new(false);
        long seen;
        int sleeping;   // 1 from just before the helper's last look at the generation until it wakes

        public Helper(int index)
        {
            seen = Interlocked.Read(ref generation);
            var thread = new Thread(Loop) { IsBackground = true, Name = $"sharpctr-kernel-{index + 1}" };
            thread.Start();
        }

        /// <summary>Signals the event only when the helper may be asleep: a helper still polling sees the new
        /// generation by itself (an event set per kernel call was a system call each, ~2 % of a DIN step).
        /// The owner bumps the generation before reading <see cref="sleeping"/>, the helper sets it before its
        /// last look at the generation; both are full fences, so one of the two sees the other.</summary>
        public void Wake()
        {
            if (Volatile.Read(ref sleeping) == 1) wake.Set();
        }

        void Loop()
        {
            while (true)
            {
                long g = WaitForJob();
                seen = g;
                // Join only the job of generation g, and only while it still wants helpers.
                if (Interlocked.Increment(ref helpersJoined) <= helpersWanted && Interlocked.Read(ref generation) == g)
                    RunParts();
                Interlocked.Decrement(ref helpersJoined);
            }
        }

        /// <summary>Spins for a new job generation for a while, then sleeps until woken.</summary>
        long WaitForJob()
        {
            while (true)
            {
                long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
                do
                {
                    long g = Interlocked.Read(ref generation);
                    if (g != seen && (g & 1) == 1) return g;
                    Thread.SpinWait(4);
                } while (System.Diagnostics.Stopwatch.GetTimestamp() < deadline);
                Interlocked.Exchange(ref sleeping, 1);
                long last = Interlocked.Read(ref generation);
                if (last != seen && (last & 1) == 1) { Volatile.Write(ref sleeping, 0); return last; }
                wake.WaitOne();
                Volatile.Write(ref sleeping, 0);
                long woken = Interlocked.Read(ref generation);
                if (woken != seen && (woken & 1) == 1) return woken;
            }
        }
    }
}
