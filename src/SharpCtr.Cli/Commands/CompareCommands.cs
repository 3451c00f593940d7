using System.CommandLine;
using SharpCtr.Data;
using SharpCtr.Training.Experiments;
using SharpCtr.Training.Reports;

namespace SharpCtr.Cli.Commands;

/// <summary>`sharpctr compare &lt;configs…&gt; --seeds N`: every config with N seeds, one results table.</summary>
public static class CompareCommands
{
    public static Command Build()
    {
        var configs = new Argument<string[]>("configs") { Description = "experiment YAML files", Arity = ArgumentArity.OneOrMore };
        var seeds = new Option<int>("--seeds") { Description = "seeds per config (train.seed, +1, …)", DefaultValueFactory = _ => 3 }.AtLeast(1);
        var output = new Option<string>("--out") { Description = "output folder (results.md/.csv/.json and one folder per run)", DefaultValueFactory = _ => Path.Combine("runs", "compare") };
        var set = new Option<string[]>("--set") { Description = "override applied to every config (repeatable)" };
        var baseModel = new Option<string>("--base") { Description = "experiment RelaImpr is measured against", DefaultValueFactory = _ => "lr" };
        var reference = new Option<string?>("--reference") { Description = "experiment every other is tested against (paired t-test); default: the last config" };
        var dataDir = new Option<string?>("--data-dir") { Description = "data root" };
        var cmd = new Command("compare", "Train and evaluate several experiments over several seeds; write a results table") { configs, seeds, output, set, baseModel, reference, dataDir };
        cmd.SetAction(parse =>
        {
            var list = parse.GetValue(configs)!;
            var refName = parse.GetValue(reference) ?? Experiment.Load(list[^1]).Name;
            var table = new Comparison(list, parse.GetValue(seeds), parse.GetValue(output)!, DataRoot.Resolve(parse.GetValue(dataDir)),
                parse.GetValue(set) ?? [], Console.Error).Run(parse.GetValue(baseModel), refName);
            Console.WriteLine(MarkdownTable.Render(table));
            Console.WriteLine($"written: {Path.Combine(parse.GetValue(output)!, "results.md")} (.csv, .json)");
            return 0;
        });
        return cmd;
    }
}
