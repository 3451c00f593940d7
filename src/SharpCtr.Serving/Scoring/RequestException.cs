namespace SharpCtr.Serving.Scoring;

/// <summary>A request the service refuses: becomes an RFC 7807 problem response with this status.</summary>
public sealed class RequestException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;

    public static RequestException BadField(string field, string problem) => new(400, "invalid request", $"field '{field}': {problem}");
}
