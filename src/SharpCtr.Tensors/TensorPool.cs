namespace SharpCtr.Tensors;

/// <summary>
/// Per-thread pool of float arrays keyed by exact length. A training step of a CTR model asks
/// for the same shapes every step, so exact-size buckets hit every time after the first step,
/// and <see cref="Tensor.Data"/> can always be exactly <see cref="Tensor.Size"/> long.
/// </summary>
public static class TensorPool
{
    [ThreadStatic] static Dictionary<int, Stack<float[]>>? buckets;

    public static float[] Rent(int size)
    {
        if (size == 0) return [];
        buckets ??= new Dictionary<int, Stack<float[]>>();
        if (buckets.TryGetValue(size, out var stack) && stack.Count > 0) return stack.Pop();
        return GC.AllocateUninitializedArray<float>(size);
    }

    public static void Return(float[] array)
    {
        if (array.Length == 0) return;
        buckets ??= new Dictionary<int, Stack<float[]>>();
        if (!buckets.TryGetValue(array.Length, out var stack))
            buckets[array.Length] = stack = new Stack<float[]>();
        stack.Push(array);
    }
}
