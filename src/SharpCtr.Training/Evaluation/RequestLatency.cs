using System.Diagnostics;
using SharpCtr.Data.Batching;
using SharpCtr.Data.Encoded;
using SharpCtr.Models;
using SharpCtr.Models.Generative;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Training.Evaluation;

/// <summary>
/// Latency of scoring one ranking request on one thread (or <c>threads</c> kernel threads): one user (profile and history) and
/// <c>candidates</c> items taken from test rows, scored as one batch. For GenCI the request's
/// history part (encoding and generation, once per request) and its candidate part are also
/// timed on their own.
/// </summary>
public static class RequestLatency
{
    public sealed record Result(double P50Ms, double P99Ms, double MeanMs, int Requests, int Candidates, Part? HistoryPart = null, Part? CandidatePart = null,
        double AllocatedBytesPerRequest = 0);

    /// <summary>Percentiles of one part of a request, over the same requests.</summary>
    public sealed record Part(double P50Ms, double P99Ms);

    public static Result Measure(CtrModel model, EncodedDataset data, int[] samples, int candidates = 100, int requests = 300, int seed = 1, int threads = 1)
    {
        if (samples.Length == 0) throw new ArgumentException("no samples to build requests from");
        var rng = new Rng((ulong)seed);
        var batch = new Batch(data, candidates);
        var user = new Batch(data, 1);
        var ids = new int[candidates];
        var times = new double[requests];
        var genci = model as GenCi;
        var historyTimes = new double[requests];
        var candidateTimes = new double[requests];
        long allocated = 0;   // managed bytes allocated by the scoring calls (GC pressure in a service)
        int savedThreads = KernelThreads.Max;
        KernelThreads.Max = threads;
        model.Freeze();   // as a loaded bundle is (ModelBundle.Load): what a service would measure
        try
        {
            // Warm-up: at least 200 requests and half a second, so tiered JIT has promoted the
            // scoring code (measuring tier-0 code would overstate latency several-fold).
            var warmClock = Stopwatch.StartNew();
            for (int warm = 0; warm < 200 || warmClock.Elapsed.TotalSeconds < 0.5; warm++) ScoreOne();
            for (int r = 0; r < requests; r++) times[r] = ScoreOne(r);
        }
        finally { KernelThreads.Max = savedThreads; }
        Array.Sort(times);
        Part? history = null, candidatePart = null;
        if (genci is not null)
        {
            Array.Sort(historyTimes);
            Array.Sort(candidateTimes);
            history = new Part(Percentile(historyTimes, 0.50), Percentile(historyTimes, 0.99));
            candidatePart = new Part(Percentile(candidateTimes, 0.50), Percentile(candidateTimes, 0.99));
        }
        return new Result(Percentile(times, 0.50), Percentile(times, 0.99), times.Average(), requests, candidates, history, candidatePart,
            allocated / (double)requests);

        // One request with fresh candidates and a fresh user; returns the scoring time in ms
        // (request r < 0: warm-up, parts not kept).
        double ScoreOne(int r = -1)
        {
            for (int i = 0; i < candidates; i++) ids[i] = samples[rng.NextInt(samples.Length)];
            batch.Fill(data, ids);
            user.Fill(data, [samples[rng.NextInt(samples.Length)]]);
            ShareUser(data, user, batch);
            long bytes0 = GC.GetAllocatedBytesForCurrentThread();
            long t0 = Stopwatch.GetTimestamp();
            using (Tape.Inference())
            {
                Tensor logits;
                if (genci is not null)
                {
                    // the same work as Forward at inference, with a clock between its two parts
                    var hi = genci.EncodeHistories(batch);
                    long t1 = Stopwatch.GetTimestamp();
                    logits = genci.ScoreCandidates(batch, hi);
                    if (r >= 0)
                    {
                        historyTimes[r] = Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds;
                        candidateTimes[r] = Stopwatch.GetElapsedTime(t1).TotalMilliseconds;
                    }
                }
                else logits = model.Forward(batch).Logits;
                float sink = 0;
                for (int i = 0; i < candidates; i++) sink += Scalar.Sigmoid(logits.Data[i]);
                if (float.IsNaN(sink)) throw new InvalidOperationException("model produced NaN scores");
            }
            double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (r >= 0) allocated += GC.GetAllocatedBytesForCurrentThread() - bytes0;
            return ms;
        }
    }

    /// <summary>Copies the user's fields and history from <paramref name="user"/> (one row) into every row of <paramref name="batch"/>.</summary>
    public static void ShareUser(EncodedDataset data, Batch user, Batch batch)
    {
        foreach (var f in data.Fields)
        {
            if (!f.IsUserLevel) continue;
            if (f.Kind == "categorical") Array.Fill(batch.Ids(f.Name), user.Ids(f.Name)[0]);
        }
        foreach (var (name, seq) in batch.Sequences)
        {
            var one = user.Sequence(name);
            for (int r = 0; r < batch.Count; r++)
            {
                Array.Copy(one.Items, 0, seq.Items, r * seq.MaxLen, seq.MaxLen);
                foreach (var (side, arr) in seq.Sides) Array.Copy(one.Sides[side], 0, arr, r * seq.MaxLen, seq.MaxLen);
                seq.Lengths[r] = one.Lengths[0];
            }
        }
    }

    static double Percentile(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(q * (sorted.Length - 1) + 0.5))];
}
