namespace SharpCtr.Tensors.Nn;

/// <summary>
/// T5's relative position bias (Raffel et al. 2020): the offset key − query is mapped to one of
/// <see cref="NumBuckets"/> buckets — exact for small offsets, logarithmic up to
/// <see cref="MaxDistance"/>, clipped beyond — and each bucket holds a learned bias per head.
/// Bidirectional (encoder) buckets split into before/after halves; unidirectional (decoder
/// self-attention) buckets see only the past. Computed once per stack and shared by all layers.
/// </summary>
public sealed class T5RelativePositionBias : Module
{
    public readonly int Heads, NumBuckets, MaxDistance;
    public readonly bool Bidirectional;
    /// <summary>[NumBuckets, Heads].</summary>
    public readonly Tensor Weight;
    // Concurrent: a scoring service may run one model on several threads.
    readonly System.Collections.Concurrent.ConcurrentDictionary<(int, int), int[]> bucketCache = new();

    public T5RelativePositionBias(int heads, bool bidirectional, Rng rng, int numBuckets = 32, int maxDistance = 128, float std = 0.1f)
    {
        Heads = heads;
        Bidirectional = bidirectional;
        NumBuckets = numBuckets;
        MaxDistance = maxDistance;
        Weight = Tensor.Parameter("weight", numBuckets, heads);
        Init.Normal(Weight, rng, std);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters() { yield return ("weight", Weight); }

    /// <summary>
    /// The bucket of a relative position (key − query). The logarithmic part is computed in
    /// float32 like the reference so boundary offsets land in the same bucket.
    /// </summary>
    public static int Bucket(int relative, bool bidirectional, int numBuckets, int maxDistance)
    {
        int bucket = 0;
        if (bidirectional)
        {
            numBuckets /= 2;
            if (relative > 0) bucket += numBuckets;
            relative = Math.Abs(relative);
        }
        else relative = relative < 0 ? -relative : 0;
        int exact = numBuckets / 2;
        if (relative < exact) return bucket + relative;
        float logRatio = MathF.Log((float)relative / exact) / (float)Math.Log((double)maxDistance / exact);
        int large = exact + (int)(logRatio * (numBuckets - exact));
        return bucket + Math.Min(large, numBuckets - 1);
    }

    /// <summary>The bias [Heads, Lq, Lk] for queries 0..Lq−1 against keys 0..Lk−1.</summary>
    public Tensor Forward(int lq, int lk)
    {
        var ids = bucketCache.GetOrAdd((lq, lk), key =>
        {
            var b = new int[key.Item1 * key.Item2];
            for (int i = 0; i < key.Item1; i++)
                for (int j = 0; j < key.Item2; j++) b[i * key.Item2 + j] = Bucket(j - i, Bidirectional, NumBuckets, MaxDistance);
            return b;
        });
        var rows = Ops.IndexSelect(Weight, ids);                       // [Lq·Lk, H]
        return Ops.Reshape(Ops.Transpose(rows, 0, 1), Heads, lq, lk);
    }
}
