using SharpCtr.Data.Config;

namespace SharpCtr.Data.Tests.Config;

public class ConfigLoaderTests
{
    static string Write(string dir, string name, string text)
    {
        Directory.CreateDirectory(dir);
        var p = Path.Combine(dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    static string TempDir() => Path.Combine(Path.GetTempPath(), "sharpctr-cfg-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void UnknownKeyNamesFileLineAndSuggestsClosest()
    {
        var p = Write(TempDir(), "data.yaml", "name: x\nvocab:\n  min_cout: 3\n");
        var root = ConfigLoader.Load(p);
        root.GetString("name");
        root.Section("vocab").GetInt("min_count", 1);
        var e = Assert.Throws<ConfigException>(root.Validate);
        Assert.Contains("data.yaml:3", e.Message);
        Assert.Contains("'min_cout'", e.Message);
        Assert.Contains("did you mean 'min_count'", e.Message);
    }

    [Fact]
    public void TypedValueErrorsAreClear()
    {
        var root = ConfigLoader.LoadText("batch: abc\n", "x.yaml");
        var e = Assert.Throws<ConfigException>(() => root.GetInt("batch", 1));
        Assert.Contains("x.yaml:1", e.Message);
        Assert.Contains("must be an integer", e.Message);
    }

    [Fact]
    public void RangesAreCheckedAtTheValuesLine()
    {
        var root = ConfigLoader.LoadText("dim: 0\nlayers: 3\ndropout: 1\nrate: -0.5\nmlp:\n  - 256\n  - 2.5\nwidths: [4, -1]\n", "x.yaml");
        var e = Assert.Throws<ConfigException>(() => root.GetInt("dim", 16, min: 1));
        Assert.Equal("x.yaml:1: 'dim' must be a positive integer, got 0", e.Message);
        e = Assert.Throws<ConfigException>(() => root.GetInt("layers", 1, min: 0, max: 2));
        Assert.Equal("x.yaml:2: 'layers' must be an integer from 0 to 2, got 3", e.Message);
        e = Assert.Throws<ConfigException>(() => root.GetDouble("dropout", 0, min: 0, below: 1));
        Assert.Equal("x.yaml:3: 'dropout' must be in [0, 1), got 1", e.Message);
        e = Assert.Throws<ConfigException>(() => root.GetDouble("rate", 1e-3, min: 0));
        Assert.Equal("x.yaml:4: 'rate' must be ≥ 0, got -0.5", e.Message);
        e = Assert.Throws<ConfigException>(() => root.GetIntList("mlp", [1], min: 1));
        Assert.Equal("x.yaml:7: each item of 'mlp' must be a positive integer, got '2.5'", e.Message);
        e = Assert.Throws<ConfigException>(() => root.GetIntList("widths", [1], min: 0));
        Assert.Equal("x.yaml:8: each item of 'widths' must be a non-negative integer, got '-1'", e.Message);
        var nested = ConfigLoader.LoadText("mlp: [[1, 2]]\nempty: [~]\n", "y.yaml");
        Assert.EndsWith("got a list", Assert.Throws<ConfigException>(() => nested.GetIntList("mlp", [1], min: 1)).Message);
        Assert.EndsWith("got an empty value", Assert.Throws<ConfigException>(() => nested.GetIntList("empty", [1], min: 1)).Message);
        var none = ConfigLoader.LoadText("units: []\n", "z.yaml");
        Assert.Equal("z.yaml:1: 'units' must list at least 1 integer, got an empty list",
            Assert.Throws<ConfigException>(() => none.GetIntList("units", [1], min: 1, minCount: 1)).Message);
        Assert.Empty(none.GetIntList("units", [1], min: 1));   // an empty list is a list where a module allows none (mlp: [])
        // In range, and defaults (which are not checked against a file line) pass through.
        Assert.Equal(3, root.GetInt("layers", 1, min: 0));
        Assert.Equal(7, root.GetInt("absent", 7, min: 1));
        Assert.Equal(0.25, root.GetDouble("absent_rate", 0.25, min: 0, below: 1));
        Assert.Equal([64, 32], root.GetIntList("absent_list", [64, 32], min: 1));
        var over = ConfigLoader.LoadText("a: 1\n", "x.yaml", ["a=-4"]);
        e = Assert.Throws<ConfigException>(() => over.GetInt("a", 1, min: 1));
        Assert.Equal("--set a=-4: 'a' must be a positive integer, got -4", e.Message);
    }

    [Fact]
    public void OverridesApplyBeforeValidationAndCreateSections()
    {
        var root = ConfigLoader.LoadText("a:\n  b: 1\n", "x.yaml", new[] { "a.b=7", "c.d=[1, 2]", "e=hello" });
        Assert.Equal(7, root.Section("a").GetInt("b", 0));
        Assert.Equal(new[] { "1", "2" }, root.Section("c").GetStringList("d"));
        Assert.Equal("hello", root.GetString("e"));
        root.Validate();
        Assert.Throws<ConfigException>(() => ConfigLoader.LoadText("a: 1\n", "x.yaml", new[] { "a.typo=1" }));
    }

    [Fact]
    public void ChoiceSuggestsClosest()
    {
        var root = ConfigLoader.LoadText("kind: leave_one_ot\n", "x.yaml");
        var e = Assert.Throws<ConfigException>(() => root.GetChoice("kind", "ratio", "ratio", "leave_one_out"));
        Assert.Contains("did you mean 'leave_one_out'", e.Message);
    }

    [Fact]
    public void ExperimentReferencesDataFileAndIncludes()
    {
        var dir = TempDir();
        Write(dir, "data.yaml", "name: ml\nvocab:\n  min_count: 2\n");
        Write(dir, "base.yaml", "training:\n  epochs: 3\n  lr: 0.1\n");
        var exp = Write(Path.Combine(dir, "exp"), "e.yaml", "include: ../base.yaml\ndata: ../data.yaml\ntraining:\n  lr: 0.5\n");
        var root = ConfigLoader.Load(exp);
        var data = root.Section("data");
        Assert.Equal("ml", data.GetString("name"));
        Assert.Equal(2, data.Section("vocab").GetInt("min_count", 1));
        var training = root.Section("training");
        Assert.Equal(3, training.GetInt("epochs", 1));
        Assert.Equal(0.5, training.GetDouble("lr", 0));
        root.Validate();
        // errors inside the referenced file name that file
        var root2 = ConfigLoader.Load(exp);
        root2.Section("data").GetString("name");
        root2.Section("training");
        var e = Assert.Throws<ConfigException>(root2.Validate);
        Assert.Contains("data.yaml:2", e.Message);
    }

    [Fact]
    public void DataConfigFromAnExperimentFile()
    {
        var dir = TempDir();
        var data = Write(dir, "data.yaml", File.ReadAllText(Repo.Fixture("ml-fixture.yaml")));
        var exp = Write(Path.Combine(dir, "exp"), "e.yaml", "data: ../data.yaml\nmodel:\n  name: din\n");
        var cfg = DataConfig.Load(exp, new[] { "data.sequence.max_len=7" });
        Assert.Equal("ml-fixture", cfg.Name);
        Assert.Equal(7, cfg.SequenceMaxLen);
        Assert.Contains("max_len: 7", cfg.ResolvedYaml);
        Assert.Equal(DataConfig.Load(data).Fields, cfg.Fields);
    }

    [Fact]
    public void ResolvedConfigRoundTrips()
    {
        var root = ConfigLoader.LoadText("name: ml\nsplit:\n  ratios: [0.8, 0.1, 0.1]\nfields:\n  - {name: user_id, source: user_id}\n  - {name: genre, source: item.genre}\n", "x.yaml");
        Read(root);
        var yaml = root.ToYaml();
        var again = ConfigLoader.LoadText(yaml, "y.yaml");
        Read(again);
        again.Validate();
        Assert.Equal(yaml, again.ToYaml());
        Assert.Contains("seed: 42", yaml);

        static void Read(ConfigSection s)
        {
            s.GetString("name");
            var split = s.Section("split");
            split.GetDoubleList("ratios", new[] { 0.5 });
            split.GetInt("seed", 42);
            foreach (var f in s.SectionList("fields")) { f.GetString("name"); f.GetString("source"); f.GetBool("shared", false); }
        }
    }
}
