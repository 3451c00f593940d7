namespace SharpCtr.Data.Tests.Synthetic;

public class AucTests
{
    [Fact]
    public void Perfect_inverse_and_tied_scores()
    {
        bool[] labels = [false, false, true, true];
        Assert.Equal(1.0, Auc.Compute([0.1, 0.2, 0.3, 0.4], labels), 1e-12);
        Assert.Equal(0.0, Auc.Compute([0.4, 0.3, 0.2, 0.1], labels), 1e-12);
        Assert.Equal(0.5, Auc.Compute([1, 1, 1, 1], labels), 1e-12);
    }

    [Fact]
    public void Ties_count_one_half()
    {
        // Pairs (pos, neg): (0.5 vs 0.5) = ½, (0.5 vs 0.1) = 1, (0.9 vs 0.5) = 1, (0.9 vs 0.1) = 1.
        Assert.Equal(3.5 / 4, Auc.Compute([0.5, 0.1, 0.5, 0.9], [false, false, true, true]), 1e-12);
    }
}
