using System.Diagnostics;
using System.Net.Http.Headers;

namespace SharpCtr.Serving.Bench;

/// <summary>
/// A closed-loop load generator: <c>concurrency</c> workers each send a request, wait for the
/// answer, send the next, until <c>requests</c> have been sent. Latency is measured at the client
/// (connection, parsing and scoring included).
/// </summary>
public static class LoadGenerator
{
    /// <param name="FirstError">status and body (or exception) of the first failed request, if any.</param>
    public sealed record Result(int Concurrency, int Requests, int Errors, double Seconds, double P50Ms, double P99Ms, double MeanMs, string? FirstError)
    {
        public double RequestsPerSecond => Requests / Seconds;
    }

    public static async Task<Result> RunAsync(HttpClient client, string path, IReadOnlyList<byte[]> bodies, int concurrency, int requests)
    {
        var latencies = new double[requests];
        int next = -1, errors = 0;
        string? firstError = null;
        var clock = Stopwatch.StartNew();
        var workers = new Task[concurrency];
        for (int w = 0; w < concurrency; w++)
            workers[w] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < requests)
                {
                    using var content = new ByteArrayContent(bodies[i % bodies.Count]);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    long t0 = Stopwatch.GetTimestamp();
                    try
                    {
                        using var response = await client.PostAsync(path, content);
                        var text = await response.Content.ReadAsStringAsync();
                        if (!response.IsSuccessStatusCode)
                        {
                            Interlocked.Increment(ref errors);
                            Interlocked.CompareExchange(ref firstError, $"{(int)response.StatusCode}: {text}", null);
                        }
                    }
                    catch (HttpRequestException e)
                    {
                        Interlocked.Increment(ref errors);
                        Interlocked.CompareExchange(ref firstError, e.Message, null);
                    }
                    latencies[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                }
            });
        await Task.WhenAll(workers);
        double seconds = clock.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        return new Result(concurrency, requests, errors, seconds, Percentile(latencies, 0.50), Percentile(latencies, 0.99), latencies.Average(), firstError);
    }

    static double Percentile(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(q * (sorted.Length - 1) + 0.5))];
}
