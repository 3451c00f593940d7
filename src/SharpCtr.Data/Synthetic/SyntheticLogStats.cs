using System.Globalization;
using System.Text;

namespace SharpCtr.Data.Synthetic;

/// <summary>Summary numbers of a generated log (what `sharpctr synth` prints and the docs quote).</summary>
public sealed record SyntheticLogStats(
    int Users, int Items, int Requests, long Impressions, long Clicks, long NoisyClicks,
    long AccidentalClicks, long CrossCategoryClicks, long IntentLeafClicks, long ShiftedRequests)
{
    public double Ctr => Impressions == 0 ? 0 : (double)Clicks / Impressions;
    /// <summary>Share of recorded clicks that are noise.</summary>
    public double NoiseRate => Clicks == 0 ? 0 : (double)NoisyClicks / Clicks;
    /// <summary>Share of recorded clicks on an item of the true intent leaf.</summary>
    public double IntentClickShare => Clicks == 0 ? 0 : (double)IntentLeafClicks / Clicks;
    public double ShownPerRequest => Requests == 0 ? 0 : (double)Impressions / Requests;

    public static SyntheticLogStats Compute(SyntheticSearchLog log)
    {
        long impressions = 0, clicks = 0, noisy = 0, accidental = 0, cross = 0, intentClicks = 0, shifted = 0;
        foreach (var r in log.Requests)
        {
            impressions += r.Items.Length;
            if (r.InterestShift) shifted++;
            for (var i = 0; i < r.Items.Length; i++)
            {
                if (!r.Clicked[i]) continue;
                clicks++;
                if (log.Items[r.Items[i]].Leaf == r.TrueIntentLeaf) intentClicks++;
                switch (r.Noise[i])
                {
                    case ClickNoise.Accidental: noisy++; accidental++; break;
                    case ClickNoise.CrossCategory: noisy++; cross++; break;
                }
            }
        }
        return new SyntheticLogStats(log.Users, log.Items.Length, log.Requests.Length, impressions, clicks,
            noisy, accidental, cross, intentClicks, shifted);
    }

    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"users {Users}, items {Items}, requests {Requests}, impressions {Impressions} ({ShownPerRequest:F1}/request)\n");
        sb.Append(c, $"clicks {Clicks}, CTR {Ctr:F4}, clicks on the true intent leaf {IntentClickShare:P1}\n");
        sb.Append(c, $"noisy clicks {NoisyClicks} ({NoiseRate:P1} of clicks): accidental {AccidentalClicks}, cross-category {CrossCategoryClicks}\n");
        sb.Append(c, $"requests in a session after an interest shift: {ShiftedRequests} ({(Requests == 0 ? 0 : (double)ShiftedRequests / Requests):P1})");
        return sb.ToString();
    }
}
