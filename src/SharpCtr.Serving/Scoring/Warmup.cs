using SharpCtr.Serving.Bundles;

namespace SharpCtr.Serving.Scoring;

/// <summary>
/// Scores made-up requests with a freshly loaded bundle before it serves, so that the first real
/// requests after a (re)load do not pay for JIT compilation (tiered compilation promotes a method
/// after ~30 calls), lazily built model state, or first-time tensor-pool allocations.
/// </summary>
public static class Warmup
{
    /// <summary>Encodes and scores <paramref name="requests"/> requests of <paramref name="candidates"/> known items on the calling thread.</summary>
    public static void Run(ModelBundle bundle, int requests, int candidates = 100)
    {
        if (requests <= 0) return;
        var items = bundle.Encoder.KnownItems.Keys.Take(Math.Max(candidates, bundle.Schema.Sequence?.MaxLen ?? 0)).ToList();
        if (items.Count == 0) items.Add("warm-up-item");
        var none = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var list = new List<ItemInput>(candidates);
        for (int i = 0; i < candidates; i++) list.Add(new ItemInput(items[i % items.Count], none));
        int maxLen = bundle.Schema.Sequence?.MaxLen ?? 0;
        var history = new List<ItemInput>(maxLen);
        for (int i = 0; i < maxLen; i++) history.Add(new ItemInput(items[(i * 7 + 3) % items.Count], none));
        for (int k = 0; k < requests; k++)
        {
            // every fourth with an empty history: models branch on empty ones
            var input = new ScoreInput { UserId = "warm-up", Context = none, Candidates = list, History = k % 4 == 3 ? [] : history };
            Scorer.Score(bundle, bundle.Encoder.Encode(input, nowSeconds: 0));
        }
    }
}
