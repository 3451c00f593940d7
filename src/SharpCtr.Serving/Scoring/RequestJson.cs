using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpCtr.Serving.Scoring;

/// <summary>
/// Strict parsing of request bodies, shared by the service and `sharpctr score`: a misspelt
/// top-level field is an error, not ignored, and a parse error says where it is.
/// </summary>
public static class RequestJson
{
    static readonly JsonSerializerOptions Strict = new() { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

    /// <param name="oneLine">the body is one line of a JSON-lines file: the position is a byte of that line.</param>
    public static T Parse<T>(ReadOnlySpan<byte> utf8, bool oneLine = false) where T : class
    {
        if (utf8.IsEmpty) throw new RequestException(400, "malformed JSON", "the request body is empty");
        try
        {
            return JsonSerializer.Deserialize<T>(utf8, Strict)
                ?? throw new RequestException(400, "malformed JSON", "the request body must be a JSON object, not null");
        }
        catch (JsonException e)
        {
            string where = oneLine ? $"byte {e.BytePositionInLine + 1}" : $"line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}";
            if (!string.IsNullOrEmpty(e.Path)) where += $", at {e.Path}";
            throw new RequestException(400, "malformed JSON", $"{where}: {e.Message.Split(" Path:")[0]}");
        }
    }
}
