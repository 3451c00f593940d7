namespace SharpCtr.Training.Metrics;

/// <summary>AUC restricted to same-user and to cross-user (positive, negative) pairs; see <see cref="UserPairAuc"/>.</summary>
public sealed record UserPairAucResult(double Auc, double SameUser, double CrossUser, double SameUserShare);

/// <summary>
/// The AUC counts every (positive, negative) pair of the test set. Pairs of one user measure how
/// well a model orders that user's items (what GAUC/UAUC read); pairs of two users measure how
/// well it orders users against each other (who clicks more). The AUC is their pair-weighted mix:
/// AUC = share · SameUser + (1 − share) · CrossUser, share = Σ_u P_u·N_u / (P·N).
/// When a model gains GAUC and loses AUC, this says which side the loss is on.
/// SameUser is the per-user AUC weighted by P_u·N_u (not by rows as GAUC, nor equally as UAUC).
/// </summary>
public static class UserPairAuc
{
    public static UserPairAucResult Compute(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, ReadOnlySpan<int> users)
    {
        MetricInput.CheckLengths("user-pair AUC", scores.Length, labels.Length, users.Length);
        var perUser = GroupAuc.PerGroup(scores, labels, users);   // checks each label and score; counts every user's positives
        double auc = Auc.Compute(scores, labels);
        double pos = 0, sameWins = 0, samePairs = 0;
        for (int g = 0; g < perUser.Aucs.Length; g++)
        {
            pos += perUser.Positives[g];
            if (double.IsNaN(perUser.Aucs[g])) continue;
            double pairs = (double)perUser.Positives[g] * (perUser.Counts[g] - perUser.Positives[g]);
            sameWins += perUser.Aucs[g] * pairs;
            samePairs += pairs;
        }
        double allPairs = pos * (labels.Length - pos), crossPairs = allPairs - samePairs;
        return new UserPairAucResult(
            auc,
            samePairs > 0 ? sameWins / samePairs : double.NaN,
            crossPairs > 0 ? (auc * allPairs - sameWins) / crossPairs : double.NaN,
            allPairs > 0 ? samePairs / allPairs : double.NaN);
    }
}
