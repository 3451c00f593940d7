using SharpCtr.Data.Synthetic;

namespace SharpCtr.Data.Tests.Synthetic;

/// <summary>
/// Deliberately simple click models that score a shown item by P(item's leaf | signal):
///   true intent — the signal is the generator's true intent (one-hot over leaves);
///   history     — the leaf histogram of the user's earlier recorded clicks, noisy ones included
///                 (what a model sees in a real log), add-α smoothed;
///   purified    — the same histogram with the flagged noisy clicks left out (an oracle purifier).
/// Each is scored by AUC against the recorded clicks, and against genuine clicks only (the
/// impressions with a noisy click are left out: no model of intent can predict them).
/// </summary>
internal static class IntentBaselines
{
    public const double Smoothing = 0.1;

    public readonly record struct Scores(double TrueIntent, double History, double Purified);

    public readonly record struct Result(Scores Recorded, Scores Genuine, double HistoryTop1, long Impressions);

    public static Result Evaluate(SyntheticSearchLog log)
    {
        var leaves = log.Catalog.Leaves;
        var noisy = new int[log.Users][];
        var clean = new int[log.Users][];
        var noisyTotal = new int[log.Users];
        var cleanTotal = new int[log.Users];
        long n = 0;
        foreach (var r in log.Requests) n += r.Items.Length;
        var recorded = new bool[n];
        var isNoise = new bool[n];
        var trueIntent = new double[n];
        var history = new double[n];
        var purified = new double[n];
        long k = 0, top1Hits = 0, top1Requests = 0;
        // Requests are chronological, so a user's histograms hold only earlier clicks when a
        // request is scored; they are updated after scoring.
        foreach (var r in log.Requests)
        {
            var h = noisy[r.User] ??= new int[leaves];
            var c = clean[r.User] ??= new int[leaves];
            var hn = noisyTotal[r.User];
            var cn = cleanTotal[r.User];
            if (hn > 0)
            {
                top1Requests++;
                if (ArgMax(h) == r.TrueIntentLeaf) top1Hits++;
            }
            for (var i = 0; i < r.Items.Length; i++, k++)
            {
                var leaf = log.Items[r.Items[i]].Leaf;
                recorded[k] = r.Clicked[i];
                isNoise[k] = r.Noise[i] != ClickNoise.None;
                trueIntent[k] = leaf == r.TrueIntentLeaf ? 1.0 : 0.0;
                history[k] = (h[leaf] + Smoothing) / (hn + Smoothing * leaves);
                purified[k] = (c[leaf] + Smoothing) / (cn + Smoothing * leaves);
            }
            for (var i = 0; i < r.Items.Length; i++)
            {
                if (!r.Clicked[i]) continue;
                var leaf = log.Items[r.Items[i]].Leaf;
                h[leaf]++;
                noisyTotal[r.User]++;
                if (r.Noise[i] != ClickNoise.None) continue;
                c[leaf]++;
                cleanTotal[r.User]++;
            }
        }

        var all = new Scores(Auc.Compute(trueIntent, recorded), Auc.Compute(history, recorded), Auc.Compute(purified, recorded));
        var keep = 0;
        for (var i = 0; i < n; i++) if (!isNoise[i]) keep++;
        var gLabels = new bool[keep];
        var gTrue = new double[keep];
        var gHistory = new double[keep];
        var gPurified = new double[keep];
        for (int i = 0, j = 0; i < n; i++)
        {
            if (isNoise[i]) continue;
            gLabels[j] = recorded[i]; gTrue[j] = trueIntent[i]; gHistory[j] = history[i]; gPurified[j] = purified[i];
            j++;
        }
        var genuine = new Scores(Auc.Compute(gTrue, gLabels), Auc.Compute(gHistory, gLabels), Auc.Compute(gPurified, gLabels));
        return new Result(all, genuine, top1Requests == 0 ? 0 : (double)top1Hits / top1Requests, n);
    }

    // Lowest index among ties, so the choice is deterministic.
    static int ArgMax(int[] counts)
    {
        var best = 0;
        for (var i = 1; i < counts.Length; i++) if (counts[i] > counts[best]) best = i;
        return best;
    }
}
