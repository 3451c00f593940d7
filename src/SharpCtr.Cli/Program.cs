using System.CommandLine;
using SharpCtr.Cli.Commands;
using SharpCtr.Data;
using SharpCtr.Data.Config;
using SharpCtr.Data.Raw;
using SharpCtr.Serving.Bundles;
using SharpCtr.Tensors.IO;

// The `sharpctr` tool: each verb lives in its own file under Commands/ and only parses, then
// calls into the library layers.
var root = new RootCommand("SharpCtr — click-through-rate prediction with user-interest models");

var bench = BenchCommands.Build();
bench.Subcommands.Add(DataCommands.BuildBench());
bench.Subcommands.Add(TrainCommands.BuildBench());
bench.Subcommands.Add(TrainCommands.BuildRequestBench());
root.Subcommands.Add(bench);

var data = DataCommands.Build();
data.Subcommands.Add(SynthCommands.Build());   // sharpctr data synth <generator.yaml> --out DIR
root.Subcommands.Add(data);

root.Subcommands.Add(TrainCommands.Build());
root.Subcommands.Add(CompareCommands.Build());
root.Subcommands.Add(PredictCommands.Build());
root.Subcommands.Add(ScoreCommands.Build());
root.Subcommands.Add(TokenizeCommands.Build());
ServeCommands.AddTo(root, bench);   // sharpctr export / serve / bench serve
root.Subcommands.Add(CdpCommands.Build());
root.Subcommands.Add(VolatilityCommands.Build());
root.Subcommands.Add(UserPairCommands.Build());
root.Subcommands.Add(GenCiCommands.Build());
root.Subcommands.Add(SweepCommands.Build());
// A user's mistake (a bad config key, a malformed line, a missing data set or file, a bundle or
// checkpoint that does not fit or is damaged) is one clear line and exit code 2; anything else is
// a bug and keeps its stack trace.
try
{
    return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is ConfigException or DataFormatException or DataSetMissingException or FileNotFoundException
                              or DirectoryNotFoundException or BundleException or CheckpointMismatchException or InvalidDataException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
