using System.Buffers;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Column sums over many rows (bias, gamma and beta gradients) made deterministic: rows are cut
/// into fixed chunks of <see cref="Size"/>, each chunk sums its rows in order into its own
/// partial row, and the partials are added to the destination in chunk order. The chunking does
/// not depend on the thread count, so neither do the bits of the result.
/// </summary>
internal static unsafe class RowChunks
{
    public const int Size = 32;

    public static int Count(int rows) => (rows + Size - 1) / Size;

    /// <summary>A zeroed pooled buffer for <paramref name="chunks"/> partial rows of <paramref name="width"/>.</summary>
    public static float[] RentPartials(int chunks, int width)
    {
        var buffer = ArrayPool<float>.Shared.Rent(Math.Max(1, chunks * width));
        Array.Clear(buffer, 0, chunks * width);
        return buffer;
    }

    /// <summary>dst += Σ partials (in chunk order), then returns the buffer to the pool.</summary>
    public static void AddAndReturn(float[] partials, int chunks, int width, Span<float> dst)
    {
        for (int ch = 0; ch < chunks; ch++)
            System.Numerics.Tensors.TensorPrimitives.Add(dst, partials.AsSpan(ch * width, width), dst);
        ArrayPool<float>.Shared.Return(partials);
    }
}
