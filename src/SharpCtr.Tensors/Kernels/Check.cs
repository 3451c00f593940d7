namespace SharpCtr.Tensors.Kernels;

/// <summary>Argument checks shared by the kernels; messages name the kernel, the argument and the sizes.</summary>
internal static class Check
{
    public static void Matrix(string op, string name, int length, int rows, int cols)
    {
        if (rows < 0 || cols < 0)
            throw new ArgumentOutOfRangeException(name, $"{op}: negative size {rows}×{cols}");
        if ((long)rows * cols != length)
            throw new ArgumentException($"{op}: {name} has {length} floats, expected {rows}×{cols} = {(long)rows * cols}", name);
    }

    public static void OptionalVector(string op, string name, int length, int expected)
    {
        if (length != 0 && length != expected)
            throw new ArgumentException($"{op}: {name} has {length} floats, expected {expected} (or none)", name);
    }

    public static void Vector(string op, string name, int length, long expected)
    {
        if (length != expected)
            throw new ArgumentException($"{op}: {name} has {length} elements, expected {expected}", name);
    }
}
