using SharpCtr.Data.Schema;

namespace SharpCtr.Data.Encoded;

public static class Splits
{
    public const byte Train = 0, Valid = 1, Test = 2;
    public static readonly string[] Names = { "train", "valid", "test" };

    /// <summary>The split of a user's event at <paramref name="position"/> of <paramref name="events"/> (time order) under
    /// `split: ratio_per_user` with <paramref name="ratios"/> (train, valid, test).</summary>
    public static byte RatioPerUser(int position, int events, IReadOnlyList<double> ratios)
    {
        int trainEnd = (int)Math.Floor(ratios[0] * events + 1e-9);
        int validEnd = (int)Math.Floor((ratios[0] + ratios[1]) * events + 1e-9);
        return position < trainEnd ? Train : position < validEnd ? Valid : Test;
    }
}

/// <summary>One encoded field, column-wise over all samples.</summary>
public sealed class EncodedField
{
    public required string Name { get; init; }
    /// <summary>categorical | multi | dense</summary>
    public required string Kind { get; init; }
    public required string Source { get; init; }
    /// <summary>Whether the field describes the user (user_id, user.*): one value for every candidate of a ranking request.</summary>
    public bool IsUserLevel => Source == "user_id" || Source.StartsWith("user.", StringComparison.Ordinal);
    public int VocabSize { get; init; }
    /// <summary>multi: padded width of a batch row (the longest list when not configured); dense: dimension.</summary>
    public int Width { get; init; }
    /// <summary>categorical: one id per sample; multi: the concatenated lists (see Offsets); dense: the table row per sample.</summary>
    public int[] Ids { get; init; } = Array.Empty<int>();
    /// <summary>multi only: sample i's ids are Ids[Offsets[i] .. Offsets[i+1]).</summary>
    public int[] Offsets { get; init; } = Array.Empty<int>();
    /// <summary>dense only: a table of vectors (Width each); sample i's vector is row Ids[i] (row 0 = zeros).</summary>
    public float[] Dense { get; init; } = Array.Empty<float>();
}

/// <summary>A side field aligned with the sequence items (e.g. each item's first genre): Ids[j*Width ..] belong to Items[j].</summary>
public sealed class EncodedSequenceSide
{
    public required string Name { get; init; }
    /// <summary>Ids per history position: 1 (e.g. first genre) or, for a multi-valued side, a fixed K right-padded with 0.</summary>
    public int Width { get; init; } = 1;
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
    /// <summary>Impression logs: the request_id of each group (GroupRequestIds[Group[i]]), to join ground truth; empty otherwise.</summary>
    public int[] GroupRequestIds { get; init; } = Array.Empty<int>();
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
