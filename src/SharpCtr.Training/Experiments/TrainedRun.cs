using SharpCtr.Data;
using SharpCtr.Data.Config;
using SharpCtr.Data.Encoded;
using SharpCtr.Models;
using SharpCtr.Tensors;
using SharpCtr.Tensors.IO;

namespace SharpCtr.Training.Experiments;

/// <summary>A finished run folder (its resolved config.yaml and best.safetensors) brought back: the data set and the model with its best weights, in inference mode.</summary>
public sealed record TrainedRun(string Dir, Experiment Experiment, EncodedDataset Data, CtrModel Model)
{
    /// <param name="datasets">Data sets already loaded, by data config name, shared by runs of one comparison.</param>
    public static TrainedRun Load(string runDir, string dataRoot, Dictionary<string, EncodedDataset>? datasets = null)
    {
        var configPath = Path.Combine(runDir, "config.yaml");
        var weightsPath = Path.Combine(runDir, "best.safetensors");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{runDir}: no config.yaml (not a run folder written by `sharpctr train` or `compare`)", configPath);
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"{runDir}: no best.safetensors (the run has not finished an epoch)", weightsPath);
        var exp = Experiment.Load(configPath);
        string key = exp.Data.ResolvedYaml;
        if (datasets is null || !datasets.TryGetValue(key, out var data))
        {
            data = DatasetLoader.Load(exp.Data, dataRoot).Dataset;
            if (datasets is not null) datasets[key] = data;
        }
        var model = ModelRegistry.Create(new ModelContext(data, exp.Model, new Rng((ulong)exp.Train.Seed)));
        var state = model.Parameters().Select(p => p.Value).Concat(model.Buffers().Select(b => b.Value)).ToArray();
        Checkpoint.Load(weightsPath, state);
        model.Eval();
        return new TrainedRun(runDir, exp, data, model);
    }
}
