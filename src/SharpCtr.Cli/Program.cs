using System.CommandLine;
using SharpCtr.Cli.Commands;

// The `sharpctr` tool: each verb lives in its own file under Commands/ and only parses, then
// calls into the library layers.
var root = new RootCommand("SharpCtr — click-through-rate prediction with user-interest models");
root.Subcommands.Add(BenchCommands.Build());
root.Subcommands.Add(SynthCommands.Build());
root.Subcommands.Add(TrainCommands.Build());
return root.Parse(args).Invoke();
