namespace SharpCtr.Data.Raw;

/// <summary>Bad input: names the file, the line (1-based) and the field. <see cref="Reason"/>
/// (field + problem, without the offending value) is what `on_error: skip` counts by.</summary>
public sealed class DataFormatException(string file, long line, string fieldName, string problem, string detail = "")
    : Exception($"{file}:{line}: field '{fieldName}': {problem}{(detail.Length > 0 ? " (" + detail + ")" : "")}")
{
    public string File { get; } = file;
    public long Line { get; } = line;
    public string Field { get; } = fieldName;
    public string Reason { get; } = $"{fieldName}: {problem}";
}
