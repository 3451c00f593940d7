using SharpCtr.Data;
using SharpCtr.Data.Config;

namespace SharpCtr.Training.Experiments;

/// <summary>
/// One experiment file: `data:` (a data config, usually `include: data.yaml`), `model:` and
/// `train:`. Every key is checked: an unknown one is an error naming the file, line and the
/// closest valid key.
/// </summary>
public sealed class Experiment
{
    public required string Name { get; init; }
    public required string Path { get; init; }
    public required DataConfig Data { get; init; }
    public required ConfigSection Root { get; init; }
    public required ConfigSection Model { get; init; }
    public required TrainConfig Train { get; init; }

    public string ModelName => Model.GetString("name");

    public static Experiment Load(string path, IEnumerable<string>? overrides = null)
    {
        var root = ConfigLoader.Load(path, overrides);
        var data = DataConfig.FromSection(root.Section("data"));
        var model = root.Section("model");
        var train = TrainConfig.Read(root.Section("train"));
        var name = root.GetString("name", System.IO.Path.GetFileNameWithoutExtension(path));
        return new Experiment { Name = name, Path = path, Data = data, Root = root, Model = model, Train = train };
    }

    /// <summary>Checks the top level and the train section for unknown keys (the model validates its own section).</summary>
    public void Validate() => Root.Validate();

    /// <summary>The fully resolved configuration (includes and overrides applied), as saved beside results.</summary>
    public string ResolvedYaml() => Root.ToYaml();
}
