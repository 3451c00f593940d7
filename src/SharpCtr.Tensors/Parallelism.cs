namespace SharpCtr.Tensors;

/// <summary>
/// How many threads kernels may use. Results must not depend on it (kernels split work so that
/// each output element is computed by one thread in a fixed order); tests set it to 1 and 2 to
/// check that.
/// </summary>
public static class Parallelism
{
    static int maxThreads = Math.Min(Environment.ProcessorCount, 2);

    public static int MaxThreads
    {
        get => maxThreads;
        set => maxThreads = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), $"MaxThreads must be >= 1, got {value}");
    }
}
