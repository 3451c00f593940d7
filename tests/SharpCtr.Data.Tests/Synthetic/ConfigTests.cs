using SharpCtr.Data.Synthetic;

namespace SharpCtr.Data.Tests.Synthetic;

public class ConfigTests
{
    [Theory]
    [InlineData("clean")]
    [InlineData("moderate")]
    [InlineData("heavy")]
    public void Shipped_configs_load(string level)
    {
        var options = SyntheticSearchConfig.Load(SyntheticTestConfigs.ShippedPath(level));
        Assert.Equal(level == "clean", options.AccidentalClickProbability == 0 && options.CrossCategoryClickProbability == 0);
    }

    [Fact]
    public void Unknown_key_names_source_line_and_field()
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            SyntheticSearchConfig.Parse("users: 10\naccidental_clik_probability: 0.1\n", "gen.yaml"));
        Assert.Contains("gen.yaml", e.Message);
        Assert.Contains("line 2", e.Message);
        Assert.Contains("accidental_clik_probability", e.Message);
    }

    [Fact]
    public void Bad_value_names_source_line_and_field()
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            SyntheticSearchConfig.Parse("seed: 3\nusers: many\n", "gen.yaml"));
        Assert.Contains("gen.yaml", e.Message);
        Assert.Contains("line 2", e.Message);
        Assert.Contains("users", e.Message);
    }

    [Fact]
    public void Out_of_range_value_names_source_line_and_field()
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            SyntheticSearchConfig.Parse("users: 10\nshift_probability: 1.5\n", "gen.yaml"));
        Assert.Contains("gen.yaml: line 2", e.Message);
        Assert.Contains("shift_probability", e.Message);
    }

    [Fact]
    public void Empty_file_is_an_error()
    {
        var e = Assert.Throws<InvalidDataException>(() => SyntheticSearchConfig.Parse("", "gen.yaml"));
        Assert.Contains("gen.yaml", e.Message);
    }

    [Fact]
    public void Min_above_max_is_an_error()
    {
        var o = SyntheticTestConfigs.Tiny();
        o.MinShown = 9;
        o.MaxShown = 4;
        var e = Assert.Throws<ArgumentException>(o.Validate);
        Assert.Contains("max_shown", e.Message);
    }
}
