namespace SharpCtr.Tensors;

/// <summary>
/// Per-thread pool of float arrays keyed by exact length. A training step of a CTR model asks
/// for the same shapes every step, so exact-size buckets hit every time after the first step,
/// and <see cref="Tensor.Data"/> can always be exactly <see cref="Tensor.Size"/> long.
/// When shapes vary (serving with varying candidate counts, generation with growing lengths)
/// exact-size buckets would pile up without end, so each thread keeps at most
/// <see cref="MaxPooledBytes"/> pooled: returning past the cap first drops the buckets used least
/// recently (a size not asked for lately is the one least likely to be asked for again). The cap
/// never goes below twice the most bytes the thread has had lent out at once (one training
/// step's temporaries, plus room for a second set when a model rounds varying shapes to a few
/// size classes), so a step that needs more than the cap still allocates nothing after warm-up;
/// what the cap stops is the pile-up of sizes that are not asked for again.
/// </summary>
public static class TensorPool
{
    /// <summary>Cap for threads that have not set their own <see cref="MaxPooledBytes"/>.</summary>
    public static long DefaultMaxPooledBytes { get; set; } = 1L << 30;

    sealed class Bucket
    {
        public readonly Stack<float[]> Arrays = new();
        public long LastUse;
    }

    sealed class State
    {
        public readonly Dictionary<int, Bucket> Buckets = new();
        public long Bytes, Clock, Lent, PeakLent;
        public long? MaxBytes;
    }

    [ThreadStatic] static State? state;

    static State Current => state ??= new State();

    /// <summary>Most bytes this thread's pool keeps (arrays lent out do not count).</summary>
    public static long MaxPooledBytes
    {
        get => Current.MaxBytes ?? DefaultMaxPooledBytes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Current.MaxBytes = value;
            Trim(Current, Limit(Current));
        }
    }

    /// <summary>The cap in force: <see cref="MaxPooledBytes"/>, or more if one scope has needed more.</summary>
    public static long EffectiveMaxPooledBytes => state is { } s ? Limit(s) : DefaultMaxPooledBytes;

    static long Limit(State s) => Math.Max(s.MaxBytes ?? DefaultMaxPooledBytes, 2 * s.PeakLent);

    /// <summary>Bytes held by this thread's pool right now.</summary>
    public static long PooledBytes => state?.Bytes ?? 0;

    /// <summary>Number of distinct sizes this thread's pool tracks (pooled or lent out).</summary>
    public static int BucketCount => state?.Buckets.Count ?? 0;

    public static float[] Rent(int size)
    {
        if (size == 0) return [];
        var s = Current;
        long bytes = (long)size * sizeof(float);
        s.Lent += bytes;
        if (s.Lent > s.PeakLent) s.PeakLent = s.Lent;
        if (s.Buckets.TryGetValue(size, out var bucket) && bucket.Arrays.Count > 0)
        {
            bucket.LastUse = ++s.Clock;
            s.Bytes -= bytes;
            return bucket.Arrays.Pop();
        }
        return GC.AllocateUninitializedArray<float>(size);
    }

    public static void Return(float[] array)
    {
        if (array.Length == 0) return;
        var s = Current;
        long bytes = (long)array.Length * sizeof(float);
        s.Lent = Math.Max(0, s.Lent - bytes);
        long max = Limit(s);
        if (bytes > max) return;                                 // left to the GC
        if (s.Bytes + bytes > max) Trim(s, max - bytes);
        if (!s.Buckets.TryGetValue(array.Length, out var bucket))
            s.Buckets[array.Length] = bucket = new Bucket();
        bucket.Arrays.Push(array);
        bucket.LastUse = ++s.Clock;
        s.Bytes += bytes;
    }

    /// <summary>Drops whole least recently used buckets until at most <paramref name="limit"/> bytes stay.</summary>
    static void Trim(State s, long limit)
    {
        while (s.Bytes > limit)
        {
            int oldestSize = -1;
            long oldest = long.MaxValue;
            foreach (var (size, bucket) in s.Buckets)
                if (bucket.Arrays.Count > 0 && bucket.LastUse < oldest) { oldest = bucket.LastUse; oldestSize = size; }
            if (oldestSize < 0) break;
            var dropped = s.Buckets[oldestSize];
            s.Bytes -= (long)oldestSize * sizeof(float) * dropped.Arrays.Count;
            s.Buckets.Remove(oldestSize);
        }
    }
}
