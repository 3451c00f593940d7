namespace SharpCtr.Tensors.IO;

/// <summary>A checkpoint does not fit the model/optimizer it is loaded into; <see cref="Problems"/> lists every difference.</summary>
public sealed class CheckpointMismatchException : Exception
{
    public readonly string Path;
    public readonly IReadOnlyList<string> Problems;

    public CheckpointMismatchException(string path, IReadOnlyList<string> problems)
        : base($"{path}: checkpoint does not match ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):\n  " + string.Join("\n  ", problems))
    {
        Path = path;
        Problems = problems;
    }
}
