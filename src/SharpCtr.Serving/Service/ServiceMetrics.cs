using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SharpCtr.Serving.Service;

/// <summary>
/// Request counts, errors and latency histograms per route, rendered in the Prometheus text
/// format (version 0.0.4). One small lock per route: a request costs a millisecond, the lock
/// tens of nanoseconds.
/// </summary>
public sealed class ServiceMetrics
{
    /// <summary>Histogram bucket upper bounds in seconds (the 2 ms target sits on a bound).</summary>
    static readonly double[] Bounds = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    sealed class Route
    {
        public readonly long[] Buckets = new long[Bounds.Length];
        public readonly SortedDictionary<int, long> ByStatus = new();
        public long Count;
        public double Sum;
    }

    readonly SortedDictionary<string, Route> routes = new(StringComparer.Ordinal);
    long scoredCandidates;

    /// <summary>Per-stage time of score requests (parse, history read, queue, encode, forward, JSON write).</summary>
    public StageTimes Stages { get; } = new();

    public void Record(string route, int status, double seconds)
    {
        Route r;
        lock (routes)
            if (!routes.TryGetValue(route, out r!)) routes[route] = r = new Route();
        lock (r)
        {
            r.Count++;
            r.Sum += seconds;
            r.ByStatus[status] = r.ByStatus.GetValueOrDefault(status) + 1;
            int b = 0;
            while (b < Bounds.Length && seconds > Bounds[b]) b++;
            if (b < Bounds.Length) r.Buckets[b]++;
        }
    }

    public void AddScored(int candidates) => Interlocked.Add(ref scoredCandidates, candidates);

    public string Render(string model, string version, int reloads)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.Append("# HELP sharpctr_http_requests_total HTTP requests by route and status code.\n# TYPE sharpctr_http_requests_total counter\n");
        var snapshot = new List<(string Name, Route R)>();
        lock (routes) foreach (var (name, r) in routes) snapshot.Add((name, r));
        foreach (var (name, r) in snapshot)
            lock (r) foreach (var (status, n) in r.ByStatus) sb.Append(inv, $"sharpctr_http_requests_total{{route=\"{name}\",status=\"{status}\"}} {n}\n");
        sb.Append("# HELP sharpctr_http_request_errors_total HTTP requests answered with a 4xx or 5xx status.\n# TYPE sharpctr_http_request_errors_total counter\n");
        foreach (var (name, r) in snapshot)
            lock (r)
            {
                long errors = 0;
                foreach (var (status, n) in r.ByStatus) if (status >= 400) errors += n;
                sb.Append(inv, $"sharpctr_http_request_errors_total{{route=\"{name}\"}} {errors}\n");
            }
        sb.Append("# HELP sharpctr_http_request_duration_seconds Time from the first middleware to the response.\n# TYPE sharpctr_http_request_duration_seconds histogram\n");
        foreach (var (name, r) in snapshot)
            lock (r)
            {
                long cumulative = 0;
                for (int b = 0; b < Bounds.Length; b++)
                {
                    cumulative += r.Buckets[b];
                    sb.Append(inv, $"sharpctr_http_request_duration_seconds_bucket{{route=\"{name}\",le=\"{Bounds[b]}\"}} {cumulative}\n");
                }
                sb.Append(inv, $"sharpctr_http_request_duration_seconds_bucket{{route=\"{name}\",le=\"+Inf\"}} {r.Count}\n");
                sb.Append(inv, $"sharpctr_http_request_duration_seconds_sum{{route=\"{name}\"}} {r.Sum:R}\n");
                sb.Append(inv, $"sharpctr_http_request_duration_seconds_count{{route=\"{name}\"}} {r.Count}\n");
            }
        sb.Append("# HELP sharpctr_scored_candidates_total Candidates scored.\n# TYPE sharpctr_scored_candidates_total counter\n");
        sb.Append(inv, $"sharpctr_scored_candidates_total {Interlocked.Read(ref scoredCandidates)}\n");
        var stages = Stages.Read();
        sb.Append("# HELP sharpctr_score_stage_seconds_total Time score requests spent in each stage of the handler.\n# TYPE sharpctr_score_stage_seconds_total counter\n");
        for (int i = 0; i < StageTimes.Names.Length; i++)
            sb.Append(inv, $"sharpctr_score_stage_seconds_total{{stage=\"{StageTimes.Names[i]}\"}} {stages.Seconds[i]:R}\n");
        sb.Append("# HELP sharpctr_score_requests_completed_total Score requests that went through every stage.\n# TYPE sharpctr_score_requests_completed_total counter\n");
        sb.Append(inv, $"sharpctr_score_requests_completed_total {stages.Requests}\n");
        sb.Append("# HELP sharpctr_bundle_info The bundle now serving.\n# TYPE sharpctr_bundle_info gauge\n");
        sb.Append(inv, $"sharpctr_bundle_info{{model=\"{model}\",version=\"{version}\"}} 1\n");
        sb.Append("# HELP sharpctr_bundle_reloads_total Successful bundle swaps.\n# TYPE sharpctr_bundle_reloads_total counter\n");
        sb.Append(inv, $"sharpctr_bundle_reloads_total {reloads}\n");
        sb.Append("# HELP process_working_set_bytes Resident memory.\n# TYPE process_working_set_bytes gauge\n");
        sb.Append(inv, $"process_working_set_bytes {Process.GetCurrentProcess().WorkingSet64}\n");
        sb.Append("# HELP dotnet_gc_heap_bytes Managed heap in use.\n# TYPE dotnet_gc_heap_bytes gauge\n");
        sb.Append(inv, $"dotnet_gc_heap_bytes {GC.GetTotalMemory(false)}\n");
        return sb.ToString();
    }
}
