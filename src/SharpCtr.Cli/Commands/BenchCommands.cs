using System.CommandLine;

namespace SharpCtr.Cli.Commands;

/// <summary>`sharpctr bench …`: benchmarks that print numbers.</summary>
public static class BenchCommands
{
    public static Command Build()
    {
        var bench = new Command("bench", "Run a benchmark and print its numbers");
        return bench;
    }
}
