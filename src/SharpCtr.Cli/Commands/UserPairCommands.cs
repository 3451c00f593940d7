using System.CommandLine;
using SharpCtr.Data;
using SharpCtr.Tensors.IO;
using SharpCtr.Training.Evaluation;
using SharpCtr.Training.Reports;

namespace SharpCtr.Cli.Commands;

/// <summary>`sharpctr user-pairs &lt;compare-dir&gt;`: each run's test AUC over same-user and over cross-user pairs.</summary>
public static class UserPairCommands
{
    public static Command Build()
    {
        var dir = new Argument<string>("compare-dir") { Description = "a folder written by `sharpctr compare` (model/seedN run folders)" };
        var models = new Option<string?>("--models") { Description = "comma-separated model folders, in table order (default: all)" };
        var reference = new Option<string?>("--reference") { Description = "model the paired t-test compares against" };
        var tested = new Option<string>("--test") { Description = "column the paired t-test reads: auc, same_user_auc or cross_user_auc", DefaultValueFactory = _ => "cross_user_auc" };
        var output = new Option<string?>("--out") { Description = "where user-pairs.md/.csv/.json go (default: the compare folder)" };
        var dataDir = new Option<string?>("--data-dir") { Description = "data root" };
        var cmd = new Command("user-pairs", "A comparison's test AUC over same-user and cross-user pairs (where AUC and GAUC disagree)")
            { dir, models, reference, tested, output, dataDir };
        cmd.SetAction(parse =>
        {
            var names = (parse.GetValue(models) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var table = UserPairReport.Run(parse.GetValue(dir)!, names, parse.GetValue(reference), parse.GetValue(tested)!, DataRoot.Resolve(parse.GetValue(dataDir)), Console.Error);
            var markdown = "AUC = share · same-user AUC + (1 − share) · cross-user AUC, over the test split's (positive, negative) pairs.\n\n" +
                MarkdownTable.Render(table);
            var outDir = parse.GetValue(output) ?? parse.GetValue(dir)!;
            Directory.CreateDirectory(outDir);
            AtomicFile.WriteAllText(Path.Combine(outDir, "user-pairs.md"), markdown);
            CsvReport.Write(Path.Combine(outDir, "user-pairs.csv"), table);
            JsonReport.Write(Path.Combine(outDir, "user-pairs.json"), table);
            Console.WriteLine(markdown);
            Console.WriteLine($"written: {Path.Combine(outDir, "user-pairs.md")} (.csv, .json)");
        });
        return cmd;
    }
}
