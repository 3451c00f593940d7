namespace SharpCtr.Serving.Service;

/// <summary>Limits and locations of one service process.</summary>
public sealed class ServingOptions
{
    /// <summary>A bundle folder, or a root whose sub-folders are bundles (reload then picks the newest or a named one).</summary>
    public required string BundlePath { get; init; }
    public int MaxCandidates { get; init; } = 1000;
    public int MaxEvents { get; init; } = 1000;
    public long MaxBodyBytes { get; init; } = 1 << 20;
    /// <summary>Time allowed for reading the history and scoring; past it the request is a 503.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>
    /// Requests encoding and scoring at once; the rest wait (asynchronously, under their timeout).
    /// Scoring is pure CPU work on the request's thread: more at once than cores only starves the
    /// thread pool that also parses requests and writes responses.
    /// </summary>
    public int MaxConcurrentScoring { get; init; } = Environment.ProcessorCount;
    /// <summary>Made-up requests (100 candidates) a bundle scores after loading and before serving, so the first real ones are not slow.</summary>
    public int WarmupRequests { get; init; } = 200;
    /// <summary>Threads the managed kernels may use for a request that is the only one being scored
    /// (1 = always one thread per request). Idle cores then cut a lone request's latency.</summary>
    public int LoneRequestThreads { get; init; } = Math.Clamp(Environment.ProcessorCount, 1, 2);
}
