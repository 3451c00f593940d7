using System.CommandLine;
using SharpCtr.Cli.Commands;

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
root.Subcommands.Add(TokenizeCommands.Build());
ServeCommands.AddTo(root, bench);   // sharpctr export / serve / bench serve
root.Subcommands.Add(CdpCommands.Build());
return root.Parse(args).Invoke();
