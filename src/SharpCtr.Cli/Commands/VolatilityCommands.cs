using System.CommandLine;
using System.Globalization;
using SharpCtr.Data;
using SharpCtr.Tensors.IO;
using SharpCtr.Training.Evaluation;
using SharpCtr.Training.Reports;

namespace SharpCtr.Cli.Commands;

/// <summary>`sharpctr volatility &lt;compare-dir&gt;`: GenCI's Table 5 — the runs of a comparison on fast- and slow-changing users.</summary>
public static class VolatilityCommands
{
    public static Command Build()
    {
        var dir = new Argument<string>("compare-dir") { Description = "a folder written by `sharpctr compare` (model/seedN run folders)" };
        var models = new Option<string?>("--models") { Description = "comma-separated model folders, in table order (default: all)" };
        var field = new Option<string>("--field") { Description = "multi-valued field whose consecutive sets are compared", DefaultValueFactory = _ => "genre" };
        var reference = new Option<string?>("--reference") { Description = "model the paired t-test on fast-group AUC compares against" };
        var output = new Option<string?>("--out") { Description = "where volatility.md/.csv/.json go (default: the compare folder)" };
        var dataDir = new Option<string?>("--data-dir") { Description = "data root" };
        var cmd = new Command("volatility", "AUC / LogLoss of a comparison's runs on fast- and slow-changing users (GenCI Table 5)") { dir, models, field, reference, output, dataDir };
        cmd.SetAction(parse =>
        {
            var names = (parse.GetValue(models) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var r = VolatilityReport.Run(parse.GetValue(dir)!, names, parse.GetValue(field)!, parse.GetValue(reference),
                DataRoot.Resolve(parse.GetValue(dataDir)), Console.Error);
            var inv = CultureInfo.InvariantCulture;
            var g = r.Groups;
            var header = string.Format(inv,
                "Users cut at the median mean Jaccard distance between the '{0}' sets of consecutive training rows: {1:F4}. " +
                "Fast (above): {2:N0} users, {3:N0} test rows; slow (at or below): {4:N0} users, {5:N0} test rows.\n\n",
                parse.GetValue(field), g.Threshold, g.FastUsers, r.FastRows, g.SlowUsers, r.SlowRows);
            var markdown = header + MarkdownTable.Render(r.Table);
            var outDir = parse.GetValue(output) ?? parse.GetValue(dir)!;
            Directory.CreateDirectory(outDir);
            AtomicFile.WriteAllText(Path.Combine(outDir, "volatility.md"), markdown);
            CsvReport.Write(Path.Combine(outDir, "volatility.csv"), r.Table);
            JsonReport.Write(Path.Combine(outDir, "volatility.json"), r.Table);
            Console.WriteLine(markdown);
            Console.WriteLine($"written: {Path.Combine(outDir, "volatility.md")} (.csv, .json)");
        });
        return cmd;
    }
}
