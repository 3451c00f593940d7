using System.CommandLine;
using SharpCtr.Tensors.IO;
using SharpCtr.Training.Reports;

namespace SharpCtr.Cli.Commands;

/// <summary>`sharpctr sweep VALUE=DIR…`: a hyper-parameter sweep's table and charts from one compare folder per value.</summary>
public static class SweepCommands
{
    public static Command Build()
    {
        var points = new Argument<string[]>("points") { Description = "VALUE=COMPARE_DIR for each swept value, in order (e.g. 1=runs/layers-1)", Arity = ArgumentArity.OneOrMore };
        var xLabel = new Option<string>("--x-label") { Description = "what was swept", DefaultValueFactory = _ => "value" };
        var model = new Option<string?>("--model") { Description = "the model row to read from each results.json (default: the first)" };
        var name = new Option<string>("--name") { Description = "file stem of the outputs", DefaultValueFactory = _ => "sweep" };
        var output = new Option<string>("--out") { Description = "folder for NAME.md and NAME-<metric>.svg", DefaultValueFactory = _ => "." };
        var cmd = new Command("sweep", "Table and charts of a hyper-parameter sweep (one compare folder per value)") { points, xLabel, model, name, output };
        cmd.SetAction(parse =>
        {
            var pairs = parse.GetValue(points)!.Select(p =>
            {
                int eq = p.IndexOf('=');
                if (eq <= 0 || eq == p.Length - 1) throw new Data.Config.ConfigException($"sweep point '{p}': expected VALUE=COMPARE_DIR");
                return (p[..eq], p[(eq + 1)..]);
            }).ToList();
            var sweep = SweepReport.Load(pairs, parse.GetValue(model));
            string x = parse.GetValue(xLabel)!, stem = parse.GetValue(name)!, outDir = parse.GetValue(output)!;
            Directory.CreateDirectory(outDir);
            var md = SweepReport.Markdown(sweep, x);
            AtomicFile.WriteAllText(Path.Combine(outDir, stem + ".md"), md);
            foreach (var (key, header) in SweepReport.Metrics)
                SweepReport.Chart(sweep, key, header, x, $"{header} against {x}").Write(Path.Combine(outDir, $"{stem}-{key}.svg"));
            Console.WriteLine(md);
            Console.WriteLine($"written: {Path.Combine(outDir, stem + ".md")} and {stem}-{{{string.Join(",", SweepReport.Metrics.Select(m => m.Key))}}}.svg");
        });
        return cmd;
    }
}
