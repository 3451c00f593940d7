using SharpCtr.Tensors.Optim;

namespace SharpCtr.Tensors.Tests.Optim;

public sealed class WeightAverageTests
{
    [Fact]
    public void UpdatesFollowTheWarmedUpDecayByHand()
    {
        var w = Tensor.Parameter("w", 2);
        w.Span[0] = 1f; w.Span[1] = -2f;
        var avg = new WeightAverage([w], decay: 0.9f);
        Assert.Equal("ema/w", avg.Averages[0].Name);
        Assert.Equal([1f, -2f], avg.Averages[0].ToArray());   // starts at the initial weights

        // Update 1: d = min(0.9, 2/11) = 2/11; the average moves 9/11 of the way to the weights.
        w.Span[0] = 12f; w.Span[1] = 20f;
        avg.Update();
        Assert.Equal(1f + 11f * 9f / 11f, avg.Averages[0].Span[0], 1e-5);
        Assert.Equal(-2f + 22f * 9f / 11f, avg.Averages[0].Span[1], 1e-5);

        // Many updates later the decay is the configured one: d = min(0.9, (1+n)/(10+n)) = 0.9.
        avg.Updates = 1000;
        var before = avg.Averages[0].ToArray();
        w.Span[0] = 0f; w.Span[1] = 0f;
        avg.Update();
        Assert.Equal(before[0] * 0.9f, avg.Averages[0].Span[0], 1e-4);
        Assert.Equal(before[1] * 0.9f, avg.Averages[0].Span[1], 1e-4);
        Assert.Equal(1001, avg.Updates);
    }

    [Fact]
    public void SwapExchangesWeightsAndAveragesAndUndoesItself()
    {
        var a = Tensor.Parameter("a", 3);
        var b = Tensor.Parameter("b", 2, 2);
        for (int i = 0; i < 3; i++) a.Span[i] = i;
        for (int i = 0; i < 4; i++) b.Span[i] = 10 + i;
        var avg = new WeightAverage([a, b], decay: 0.5f);
        for (int i = 0; i < 3; i++) a.Span[i] = -1;
        for (int i = 0; i < 4; i++) b.Span[i] = -2;
        avg.Swap();
        Assert.Equal([0f, 1f, 2f], a.ToArray());
        Assert.Equal([10f, 11f, 12f, 13f], b.ToArray());
        Assert.Equal([-1f, -1f, -1f], avg.Averages[0].ToArray());
        avg.Swap();
        Assert.Equal([-1f, -1f, -1f], a.ToArray());
        Assert.Equal([0f, 1f, 2f], avg.Averages[0].ToArray());
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    [InlineData(float.NaN)]
    public void DecayOutsideTheOpenUnitIntervalIsRefused(float decay)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new WeightAverage([Tensor.Parameter("w", 1)], decay));
        Assert.Contains("decay", ex.Message);
    }
}
