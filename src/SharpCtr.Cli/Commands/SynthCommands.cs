using System.CommandLine;
using System.Diagnostics;
using SharpCtr.Data.Synthetic;

namespace SharpCtr.Cli.Commands;

/// <summary>`sharpctr synth &lt;generator.yaml&gt; --out DIR [--seed N]`: write a synthetic search log.</summary>
public static class SynthCommands
{
    public static Command Build()
    {
        var config = new Argument<FileInfo>("generator") { Description = "Generator config, e.g. configs/synthetic-search/generator-moderate.yaml" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for requests.jsonl, items.jsonl, truth.jsonl", Required = true };
        var seed = new Option<ulong?>("--seed") { Description = "Overrides the config's seed" };
        var synth = new Command("synth", "Generate a synthetic search log with its ground truth") { config, output, seed };
        synth.SetAction(parse =>
        {
            try
            {
                var options = SyntheticSearchConfig.Load(parse.GetValue(config)!.FullName);
                if (parse.GetValue(seed) is { } s) options.Seed = s;
                var clock = Stopwatch.StartNew();
                var log = SearchLogGenerator.Generate(options);
                var dir = parse.GetValue(output)!.FullName;
                SearchLogWriter.Write(log, dir);
                Console.WriteLine($"wrote {dir} (seed {options.Seed}) in {clock.Elapsed.TotalSeconds:F1} s");
                Console.WriteLine(SyntheticLogStats.Compute(log));
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or FileNotFoundException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return synth;
    }
}
