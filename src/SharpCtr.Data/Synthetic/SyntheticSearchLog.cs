namespace SharpCtr.Data.Synthetic;

/// <summary>Why a recorded click is noise (the log records all of them as ordinary clicks).</summary>
public enum ClickNoise : byte
{
    None = 0,
    /// <summary>A click on a shown item regardless of intent (a slip of the finger).</summary>
    Accidental = 1,
    /// <summary>A curiosity click on an item outside the intent's top category.</summary>
    CrossCategory = 2,
}

/// <summary>One item of the catalogue; <see cref="Leaf"/> indexes <see cref="SyntheticCatalog"/>'s leaves.</summary>
public sealed record SyntheticItem(int Index, int Leaf, string Title, double Quality);

/// <summary>
/// One search request with what the log shows (query, context, scene, shown items, clicks) and
/// what only the generator knows (true intent, the interest distribution it was drawn from,
/// which clicks are noise).
/// </summary>
public sealed class SyntheticRequest
{
    public long RequestId { get; set; }
    public int User { get; init; }
    public int UserSequence { get; init; }
    public long Timestamp { get; init; }
    public required string Query { get; init; }
    public int Hour { get; init; }
    public int Weekday { get; init; }
    public int Page { get; init; }
    public int Device { get; init; }
    public int Source { get; init; }

    /// <summary>Shown items in position order (position = index + 1).</summary>
    public required int[] Items { get; init; }
    public required bool[] Clicked { get; init; }
    public required ClickNoise[] Noise { get; init; }
    /// <summary>
    /// Ground truth: the probability the generator gave each shown item of being recorded as
    /// clicked, knowing the true intent — 1 − (1 − genuine)(1 − accidental)(1 − cross), where the
    /// cross-category click is spread evenly over the request's items outside the intent's top
    /// category (the generator picks among the unclicked ones). The score of an oracle that knows
    /// what no model sees; its AUC bounds what the log lets any model reach.
    /// </summary>
    public required double[] ClickProbability { get; init; }

    // Ground truth.
    public int TrueIntentLeaf { get; init; }
    public required int[] IntentLeaves { get; init; }
    public required double[] IntentWeights { get; init; }
    public int DominantLeaf { get; init; }
    /// <summary>True on the requests of a session whose dominant interest just changed.</summary>
    public bool InterestShift { get; init; }
    /// <summary>The query names only the intent's parent category, not its leaf.</summary>
    public bool AmbiguousQuery { get; init; }
}

/// <summary>A generated log held in memory; <see cref="SearchLogWriter"/> writes it as JSONL.</summary>
public sealed class SyntheticSearchLog
{
    public required SyntheticSearchOptions Options { get; init; }
    public required SyntheticCatalog Catalog { get; init; }
    public required SyntheticItem[] Items { get; init; }
    public required int Users { get; init; }
    /// <summary>Chronological (timestamp, then user, then the user's own order); RequestId = index.</summary>
    public required SyntheticRequest[] Requests { get; init; }

    public static string UserId(int user) => "u" + user.ToString(System.Globalization.CultureInfo.InvariantCulture);
    public static string ItemId(int item) => "i" + item.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
