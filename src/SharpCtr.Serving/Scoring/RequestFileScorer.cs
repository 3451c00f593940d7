using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using SharpCtr.Data.Raw;
using SharpCtr.Serving.Bundles;
using SharpCtr.Serving.Store;
using SharpCtr.Tensors.IO;
using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Serving.Scoring;

/// <summary>
/// Scores a JSON-lines file of score requests (one POST /v1/score body per line) with a bundle,
/// without the HTTP service: the same parsing, validation, encoding and forward pass, so a line's
/// scores are the service's for the same bundle, history and time. For replaying logged traffic,
/// scoring a new day offline, or checking a bundle before it serves. A path ending in ".gz" is read
/// or written gzip-compressed.
/// Output: one JSON line per request, in input order (blank lines are skipped, not answered):
/// <c>{"line", ["request_id",] "user_id", "model", "version", "scores", "history_length"}</c>, or
/// <c>{"line", ["request_id",] "error": {"status", "title", "detail"}}</c> for a refused request when skipping.
/// </summary>
public static class RequestFileScorer
{
    public sealed record Options
    {
        /// <summary>Where requests without a "history" read the user's recent events; null: they score with an empty history.</summary>
        public IHistoryStore? Store { get; init; }
        /// <summary>false: the first refused request stops the run and nothing is written; true: it gets an error line.</summary>
        public bool SkipRefused { get; init; }
        public int MaxCandidates { get; init; } = 1000;
        /// <summary>Unix seconds for requests without context.timestamp (time.hour / time.weekday fields).</summary>
        public long NowSeconds { get; init; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        /// <summary>Requests scored at once, one kernel thread each.</summary>
        public int Threads { get; init; } = Math.Clamp(Environment.ProcessorCount, 1, 2);
    }

    public sealed record Summary(int Requests, long Candidates, int Refused, int WithoutHistory, double Seconds);

    /// <summary>Requests held in memory between reading and writing: bounds memory on files of any length.</summary>
    const int ChunkLines = 512;

    /// <summary>Scores every request of <paramref name="requestsPath"/> and writes the answers to
    /// <paramref name="outPath"/> atomically (a refused request in fail mode leaves no output).</summary>
    /// <exception cref="InvalidDataException">a refused request when not skipping: FILE:LINE, the field and the problem.</exception>
    public static Summary Run(ModelBundle bundle, string requestsPath, string outPath, Options options)
    {
        // gzip by extension, strict UTF-8, line numbers, and a missing, empty or corrupt file named (Data's LineReader)
        using var reader = new LineReader(requestsPath);
        var clock = Stopwatch.StartNew();
        int requests = 0, refused = 0, withoutHistory = 0;
        long candidates = 0;
        AtomicFile.Write(outPath, file =>
        {
            using var gzip = IsGzip(outPath) ? new GZipStream(file, CompressionLevel.Optimal, leaveOpen: true) : null;
            Stream stream = (Stream?)gzip ?? file;
            // a file, not HTML: keep quotes and apostrophes in error details readable
            using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            var chunk = new List<(int Line, string Text)>(ChunkLines);
            var results = new Result[ChunkLines];
            void Flush()
            {
                Parallel.For(0, chunk.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Threads) },
                    i => results[i] = ScoreLine(bundle, chunk[i].Text, options));
                for (int i = 0; i < chunk.Count; i++)
                {
                    var r = results[i];
                    if (r.Error is { } e && !options.SkipRefused)
                        throw new InvalidDataException($"{requestsPath}:{chunk[i].Line}: {e.Title}: {e.Message}");
                    requests++;
                    if (r.Error is null)
                    {
                        candidates += r.Scores!.Length;
                        if (r.NoHistory) withoutHistory++;
                    }
                    else refused++;
                    Write(writer, bundle, chunk[i].Line, r);
                    writer.Flush();
                    stream.WriteByte((byte)'\n');
                    writer.Reset();
                }
                chunk.Clear();
            }
            while (reader.Next() is { } line)
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                chunk.Add(((int)reader.LineNumber, line));
                if (chunk.Count == ChunkLines) Flush();
            }
            Flush();
        });
        return new Summary(requests, candidates, refused, withoutHistory, clock.Elapsed.TotalSeconds);
    }

    static bool IsGzip(string path) => path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);

    /// <summary>requests.jsonl → requests.scores.jsonl; requests.jsonl.gz → requests.scores.jsonl.gz.</summary>
    public static string DefaultOutputPath(string requestsPath)
    {
        bool gzip = IsGzip(requestsPath);
        return Path.ChangeExtension(gzip ? requestsPath[..^3] : requestsPath, null) + ".scores.jsonl" + (gzip ? ".gz" : "");
    }

    readonly record struct Result(string? RequestId, string? UserId, float[]? Scores, int HistoryLength, bool NoHistory, RequestException? Error);

    static Result ScoreLine(ModelBundle bundle, string text, Options options)
    {
        ScoreRequest? request = null;
        try
        {
            request = RequestJson.Parse<ScoreRequest>(Encoding.UTF8.GetBytes(text), oneLine: true);
            Scorer.CheckModel(bundle, request);
            var input = ScoreInput.From(request, options.MaxCandidates);
            bool noHistory = false;
            if (bundle.Schema.Sequence is { } seq && input.History is null)
            {
                if (options.Store is { } store)
                {
                    var events = store.RecentAsync(input.UserId, seq.MaxLen, CancellationToken.None).GetAwaiter().GetResult();
                    input.History = events.ConvertAll(e => new ItemInput(e.ItemId, e.Attributes));
                }
                else input.History = [];
                noHistory = input.History.Count == 0;
            }
            var batch = bundle.Encoder.Encode(input, options.NowSeconds);
            float[] scores;
            using (KernelThreads.Allow(1)) scores = Scorer.Score(bundle, batch);
            return new Result(input.RequestId, input.UserId, scores, Scorer.HistoryLength(bundle, input), noHistory, null);
        }
        catch (RequestException e) { return new Result(RefusedRequestId(request), null, null, 0, false, e); }
    }

    /// <summary>A refused request's id, when it parsed and its id is well-formed (the refusal may be about something else).</summary>
    static string? RefusedRequestId(ScoreRequest? request)
    {
        if (request is null) return null;
        try { return ScoreInput.RequestIdOf(request); }
        catch (RequestException) { return null; }
    }

    static void Write(Utf8JsonWriter w, ModelBundle bundle, int line, Result r)
    {
        w.WriteStartObject();
        w.WriteNumber("line", line);
        if (r.RequestId is { } id) w.WriteString("request_id", id);
        if (r.Error is { } e)
        {
            w.WriteStartObject("error");
            w.WriteNumber("status", e.Status);
            w.WriteString("title", e.Title);
            w.WriteString("detail", e.Message);
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("user_id", r.UserId);
            w.WriteString("model", bundle.ModelName);
            w.WriteString("version", bundle.Version);
            w.WriteStartArray("scores");
            foreach (var s in r.Scores!) w.WriteNumberValue(s);
            w.WriteEndArray();
            w.WriteNumber("history_length", r.HistoryLength);
        }
        w.WriteEndObject();
    }
}
