using SharpCtr.Data.Schema;

namespace SharpCtr.Data.Encoded;

public static class Splits
{
    public const byte Train = 0, Valid = 1, Test = 2;
    public static readonly string[] Names = { "train", "valid", "test" };
}

/// <summary>One encoded field, column-wise over all samples.</summary>
public sealed class EncodedField
{
    public required string Name { get; init; }
    /// <summary>categorical | multi | dense</summary>
    public required string Kind { get; init; }
    public required string Source { get; init; }
    public int VocabSize { get; init; }
    /// <summary>multi: padded width of a batch row (the longest list when not configured); dense: dimension.</summary>
    public int Width { get; init; }
    /// <summary>categorical: one id per sample; multi: the concatenated lists (see Offsets).</summary>
    public int[] Ids { get; init; } = Array.Empty<int>();
    /// <summary>multi only: sample i's ids are Ids[Offsets[i] .. Offsets[i+1]).</summary>
    public int[] Offsets { get; init; } = Array.Empty<int>();
    /// <summary>dense only: Count × Width values.</summary>
    public float[] Dense { get; init; } = Array.Empty<float>();
}

/// <summary>A side field aligned with the sequence items (e.g. each item's first genre).</summary>
public sealed class EncodedSequenceSide
{
    public required string Name { get; init; }
    public required string Source { get; init; }
    public int VocabSize { get; init; }
    public required int[] Ids { get; init; }
}

/// <summary>
/// Behaviour sequences, stored once per user: user u's chronological history (only the items
/// that can enter a history: positives by default) is Items[UserStart[u] .. UserStart[u+1]).
/// Sample i sees Items[SampleStart[i] .. SampleStart[i] + SampleLength[i]) (oldest → newest),
/// a window ending just before the sample's own moment, at most MaxLen long.
/// </summary>
public sealed class EncodedSequence
{
    public required string Name { get; init; }
    public required string Source { get; init; }
    public int MaxLen { get; init; }
    public int VocabSize { get; init; }
    public required int[] UserStart { get; init; }
    public required int[] Items { get; init; }
    public required List<EncodedSequenceSide> Sides { get; init; }
    public required int[] SampleStart { get; init; }
    public required int[] SampleLength { get; init; }
}

/// <summary>A data set after protocol and encoding: what models train and evaluate on.</summary>
public sealed class EncodedDataset
{
    public required string Name { get; init; }
    public required int Count { get; init; }
    public required float[] Labels { get; init; }
    /// <summary>Dense user index 0 … UserCount-1 (for UAUC).</summary>
    public required int[] User { get; init; }
    /// <summary>Group for GAUC: the request for impression logs, otherwise the user.</summary>
    public required int[] Group { get; init; }
    public required byte[] Split { get; init; }
    public required List<EncodedField> Fields { get; init; }
    public EncodedSequence? Sequence { get; init; }
    public required List<Vocabulary> Vocabularies { get; init; }
    public int UserCount { get; init; }
    /// <summary>Distinct items among the kept interactions.</summary>
    public int ItemCount { get; init; }
    /// <summary>Kept interactions (sampled negatives excluded).</summary>
    public int Interactions { get; init; }
    /// <summary>Kept interactions labelled positive.</summary>
    public int Positives { get; init; }
    public Dictionary<string, int> Skipped { get; init; } = new();

    public EncodedField Field(string name) =>
        Fields.Find(f => f.Name == name) ?? throw new KeyNotFoundException($"data set '{Name}' has no field '{name}' (fields: {string.Join(", ", Fields.Select(f => f.Name))})");

    public Vocabulary Vocabulary(string source) =>
        Vocabularies.Find(v => v.Source == source) ?? throw new KeyNotFoundException($"no vocabulary for source '{source}'");

    /// <summary>Sample indices of one split, in stored order (user by user, chronological).</summary>
    public int[] Indices(byte split)
    {
        int n = 0;
        for (int i = 0; i < Count; i++) if (Split[i] == split) n++;
        var idx = new int[n];
        n = 0;
        for (int i = 0; i < Count; i++) if (Split[i] == split) idx[n++] = i;
        return idx;
    }

    /// <summary>Bytes held by the encoded arrays (vocabulary strings excluded).</summary>
    public long MemoryBytes
    {
        get
        {
            long b = Labels.Length * 4L + User.Length * 4L + Group.Length * 4L + Split.Length;
            foreach (var f in Fields) b += f.Ids.Length * 4L + f.Offsets.Length * 4L + f.Dense.Length * 4L;
            if (Sequence is { } s)
            {
                b += s.UserStart.Length * 4L + s.Items.Length * 4L + s.SampleStart.Length * 4L + s.SampleLength.Length * 4L;
                foreach (var side in s.Sides) b += side.Ids.Length * 4L;
            }
            return b;
        }
    }
}
