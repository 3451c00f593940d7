using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors.Tests.Kernels;

public class KernelWorkersTests
{
    /// <summary>Writes a value that depends only on the index, and counts how often each index ran.</summary>
    readonly struct MarkJob(int[] visits, float[] output) : IRangeJob
    {
        public void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                Interlocked.Increment(ref visits[i]);
                output[i] = MathF.Sqrt(i) * 3f;
            }
        }
    }

    readonly struct FailingJob(int failAt) : IRangeJob
    {
        public void Run(int start, int end)
        {
            if (failAt >= start && failAt < end) throw new ArgumentOutOfRangeException(nameof(failAt), $"index {failAt} is bad");
        }
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(1000, 2)]
    [InlineData(777, 3)]
    public void EveryIndexRunsExactlyOnce(int count, int workers)
    {
        for (int repeat = 0; repeat < 50; repeat++)
        {
            var visits = new int[count];
            var output = new float[count];
            KernelThreads.Run(new MarkJob(visits, output), count, workers);
            Assert.All(visits, v => Assert.Equal(1, v));
            for (int i = 0; i < count; i++) Assert.Equal(MathF.Sqrt(i) * 3f, output[i]);
        }
    }

    [Fact]
    public async Task ConcurrentCallersAllFinishWithCorrectResults()
    {
        // Several threads at once: one owns the helpers, the others run alone; none may hang or lose work.
        var tasks = Enumerable.Range(0, 6).Select(t => Task.Run(() =>
        {
            for (int repeat = 0; repeat < 300; repeat++)
            {
                int count = 50 + (t * 37 + repeat) % 400;
                var visits = new int[count];
                var output = new float[count];
                KernelThreads.Run(new MarkJob(visits, output), count, 2);
                if (visits.Any(v => v != 1)) return false;
            }
            return true;
        })).ToArray();
        var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.All(results, Assert.True);
    }

    /// <summary>Records which threads ran parts; each part takes about half a millisecond.</summary>
    readonly struct SlowJob(int[] visits, int[] threadOfIndex) : IRangeJob
    {
        public void Run(int start, int end)
        {
            var until = System.Diagnostics.Stopwatch.GetTimestamp() + System.Diagnostics.Stopwatch.Frequency / 2000;
            while (System.Diagnostics.Stopwatch.GetTimestamp() < until) Thread.SpinWait(20);
            for (int i = start; i < end; i++) { Interlocked.Increment(ref visits[i]); threadOfIndex[i] = Environment.CurrentManagedThreadId; }
        }
    }

    [Fact]
    public async Task HelpersThatWentToSleepAreWokenForLaterJobs()
    {
        // Between jobs the helper outlasts its polling window and sleeps; the event must still wake it
        // (it is only signalled when the helper said it may sleep), and no job may hang or lose work.
        bool helperJoined = false;
        for (int repeat = 0; repeat < 30; repeat++)
        {
            await Task.Delay(repeat % 3 == 0 ? 0 : 3);
            var visits = new int[64];
            var threads = new int[64];
            await Task.Run(() => KernelThreads.Run(new SlowJob(visits, threads), 64, 2)).WaitAsync(TimeSpan.FromMinutes(1));   // throws if a job hangs
            Assert.All(visits, v => Assert.Equal(1, v));
            helperJoined |= repeat % 3 != 0 && threads.Distinct().Count() > 1;   // after 3 ms the helper was asleep
        }
        Assert.True(helperJoined, "the helper never ran a part after sleeping");
    }

    /// <summary>Fails at every index from <c>firstBad</c> on, naming it: each part throws at its own first
    /// index, and the part holding <c>firstBad</c> is slow to get there, so later parts fail first in time.</summary>
    readonly struct FailingFromJob(int firstBad) : IRangeJob
    {
        public void Run(int start, int end)
        {
            if (start <= firstBad && firstBad < end) Thread.Sleep(2);
            for (int i = start; i < end; i++)
                if (i >= firstBad) throw new ArgumentOutOfRangeException(nameof(firstBad), $"index {i} is bad");
        }
    }

    [Fact]
    public void WhenSeveralPartsFailTheCallerGetsTheErrorASerialRunWouldGive()
    {
        // Every part past index 10 fails; whichever thread fails first, the error is index 10's.
        for (int repeat = 0; repeat < 20; repeat++)
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => KernelThreads.Run(new FailingFromJob(10), 64, 2));
            Assert.Contains("index 10 is bad", ex.Message);
        }
    }

    [Fact]
    public void AnExceptionInAPartReachesTheCallerAndTheWorkersStayUsable()
    {
        for (int failAt = 0; failAt < 40; failAt += 7)
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => KernelThreads.Run(new FailingJob(failAt), 40, 2));
            Assert.Contains($"index {failAt}", ex.Message);
        }
        var visits = new int[100];
        KernelThreads.Run(new MarkJob(visits, new float[100]), 100, 2);
        Assert.All(visits, v => Assert.Equal(1, v));
    }
}
