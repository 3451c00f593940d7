using SharpCtr.Data.Encoded;

namespace SharpCtr.Data.Batching;

/// <summary>
/// Iterates a set of samples in batches, ordered or shuffled with a seed (epoch e uses seed +
/// e, so the same seed gives the same batches). While the caller works on batch k, batch k+1
/// is filled on a background task (double buffering); only the last, shorter batch has its
/// own buffer, so nothing is allocated per sample or per batch after the first epoch.
/// A batch stays valid until the enumeration has moved two batches further.
/// </summary>
public sealed class BatchLoader
{
    readonly EncodedDataset _data;
    readonly int[] _samples;
    readonly int[] _order;
    readonly Batch[] _full = new Batch[2];
    Batch? _tail;
    public int BatchSize { get; }
    public bool Shuffle { get; }
    public int Seed { get; }
    public bool DropLast { get; }

    public BatchLoader(EncodedDataset data, int[] samples, int batchSize, bool shuffle, int seed = 0, bool dropLast = false)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize));
        _data = data;
        _samples = samples;
        _order = new int[samples.Length];
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
    }

    public int BatchCount => DropLast ? _samples.Length / BatchSize : (_samples.Length + BatchSize - 1) / BatchSize;

    /// <summary>The batches of one epoch.</summary>
    public IEnumerable<Batch> Epoch(int epoch = 0)
    {
        _samples.CopyTo(_order, 0);
        if (Shuffle) new Random(unchecked(Seed + epoch * 7919)).Shuffle(_order);
        int batches = BatchCount;
        if (batches == 0) yield break;
        Task<Batch> next = Task.Run(() => Fill(0));
        try
        {
            for (int k = 0; k < batches; k++)
            {
                var current = next.GetAwaiter().GetResult();
                int following = k + 1;
                next = following < batches ? Task.Run(() => Fill(following)) : Task.FromResult<Batch>(null!);
                yield return current;
            }
        }
        finally
        {
            // a caller that stops early must not leave a fill running into the next epoch's buffers
            try { next.Wait(); } catch (AggregateException) { }
        }
    }

    Batch Fill(int k)
    {
        int start = k * BatchSize;
        int count = Math.Min(BatchSize, _order.Length - start);
        Batch b;
        if (count == BatchSize) b = _full[k & 1] ??= new Batch(_data, BatchSize);
        else b = _tail is { } t && t.Count == count ? t : _tail = new Batch(_data, count);
        b.Fill(_data, _order.AsSpan(start, count));
        return b;
    }
}
