using SharpCtr.Training.Metrics;

namespace SharpCtr.Training.Tests.Metrics;

public class AucTests
{
    [Fact]
    public void Hand_computed_without_ties()
    {
        // positives 0.9, 0.4; negatives 0.8, 0.1, 0.3.
        // 0.9 beats all 3 negatives; 0.4 beats 0.1 and 0.3 → 5 wins of 2·3 = 6 pairs → 5/6.
        float[] s = [0.9f, 0.8f, 0.4f, 0.1f, 0.3f];
        float[] y = [1, 0, 1, 0, 0];
        Assert.Equal(5.0 / 6.0, Auc.Compute(s, y), 1e-12);
    }

    [Fact]
    public void Ties_between_classes_count_one_half()
    {
        // positives 0.5, 0.5, 0.7; negatives 0.5, 0.2.
        // 0.5(+) vs 0.5(−) tie ½, vs 0.2 win 1 → 1.5, twice → 3; 0.7 beats both → 2.
        // (3 + 2) / (3·2) = 5/6. Average ranks: sorted 0.2,0.5,0.5,0.5,0.7 → ranks 1,3,3,3,5;
        // positive rank sum 3+3+5 = 11; (11 − 3·4/2) / 6 = 5/6 as well.
        float[] s = [0.5f, 0.5f, 0.7f, 0.5f, 0.2f];
        float[] y = [1, 1, 1, 0, 0];
        Assert.Equal(5.0 / 6.0, Auc.Compute(s, y), 1e-12);
    }

    [Fact]
    public void All_scores_equal_give_one_half()
    {
        float[] s = [0.3f, 0.3f, 0.3f, 0.3f];
        float[] y = [1, 0, 0, 1];
        Assert.Equal(0.5, Auc.Compute(s, y), 1e-12);
    }

    [Fact]
    public void Negative_and_positive_zero_are_the_same_score()
    {
        // A positive at −0 and a negative at +0 tie: AUC ½, not 0 or 1.
        float[] s = [-0f, 0f];
        float[] y = [1, 0];
        Assert.Equal(0.5, Auc.Compute(s, y), 1e-12);
    }

    [Fact]
    public void Logits_and_probabilities_give_the_same_auc()
    {
        float[] logits = [-2f, 0.5f, 3f, -0.1f, 1.2f, 1.2f];
        var probs = new float[logits.Length];
        for (int i = 0; i < logits.Length; i++) probs[i] = 1f / (1f + MathF.Exp(-logits[i]));
        float[] y = [0, 1, 1, 0, 0, 1];
        Assert.Equal(Auc.Compute(logits, y), Auc.Compute(probs, y), 1e-12);
    }

    [Fact]
    public void Byte_and_float_labels_agree()
    {
        float[] s = [0.9f, 0.8f, 0.4f, 0.1f, 0.3f];
        Assert.Equal(Auc.Compute(s, new float[] { 1, 0, 1, 0, 0 }), Auc.Compute(s, new byte[] { 1, 0, 1, 0, 0 }));
    }

    [Fact]
    public void One_class_is_nan_by_contract()
    {
        Assert.True(double.IsNaN(Auc.Compute(new float[] { 0.1f, 0.2f }, new float[] { 1, 1 })));
        Assert.True(double.IsNaN(Auc.Compute(new float[] { 0.1f, 0.2f }, new float[] { 0, 0 })));
        Assert.True(double.IsNaN(Auc.Compute(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty)));
    }

    [Fact]
    public void Bad_input_names_the_row()
    {
        var e = Assert.Throws<ArgumentException>(() => Auc.Compute(new float[] { 0.1f, 0.2f, 0.3f }, new float[] { 0, 1, 0.5f }));
        Assert.Contains("row 2", e.Message);
        e = Assert.Throws<ArgumentException>(() => Auc.Compute(new float[] { 0.1f, float.NaN }, new float[] { 0, 1 }));
        Assert.Contains("row 1", e.Message);
        Assert.Throws<ArgumentException>(() => Auc.Compute(new float[] { 0.1f }, new float[] { 0, 1 }));
    }

    [Fact]
    public void Matches_scikit_learn_roc_auc_score()
    {
        foreach (var c in Fixtures.Load("auc_cases.json").EnumerateArray())
        {
            var s = Fixtures.Floats(c.GetProperty("scores"));
            var y = Fixtures.Floats(c.GetProperty("labels"));
            Assert.Equal(c.GetProperty("auc").GetDouble(), Auc.Compute(s, y), 1e-12);
        }
    }
}
