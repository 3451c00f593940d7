using System.CommandLine;
using System.Globalization;
using SharpCtr.Data;
using SharpCtr.Models.Generative;
using SharpCtr.Tensors.IO;
using SharpCtr.Training.Evaluation;
using SharpCtr.Training.Experiments;

namespace SharpCtr.Cli.Commands;

/// <summary>`sharpctr genci intents RUN_DIR`: GenCI's Figure 4 from a trained run.</summary>
public static class GenCiCommands
{
    public static Command Build()
    {
        var cmd = new Command("genci", "Analyses of a trained GenCI run");
        cmd.Subcommands.Add(BuildIntents());
        return cmd;
    }

    static Command BuildIntents()
    {
        var run = new Argument<string>("run-dir") { Description = "a GenCI run folder (config.yaml, best.safetensors)" };
        var rows = new Option<int>("--rows") { Description = "users (one clicked test row each)", DefaultValueFactory = _ => 500 }.AtLeast(1);
        var perplexity = new Option<double>("--perplexity") { DefaultValueFactory = _ => 30 }.Above(0);
        var seed = new Option<ulong>("--seed") { Description = "draws the users and t-SNE's start", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "folder for intents.svg and intents.md (default: the run folder)" };
        var dataDir = new Option<string?>("--data-dir") { Description = "data root" };
        var cmd = new Command("intents", "t-SNE of long-term intents, short-term intents and target items (Figure 4), with the distances behind it") { run, rows, perplexity, seed, output, dataDir };
        cmd.SetAction(parse =>
        {
            var dir = parse.GetValue(run)!;
            var trained = TrainedRun.Load(dir, DataRoot.Resolve(parse.GetValue(dataDir)));
            var model = trained.Model as GenCi ?? throw new Data.Config.ConfigException($"{dir}: model '{trained.Experiment.ModelName}' is not genci");
            var r = IntentLayout.Measure(model, trained.Data, parse.GetValue(rows), new TSne.Options(Perplexity: parse.GetValue(perplexity), Seed: parse.GetValue(seed)), parse.GetValue(seed));
            var inv = CultureInfo.InvariantCulture;
            var outDir = parse.GetValue(output) ?? dir;
            Directory.CreateDirectory(outDir);
            IntentLayout.Figure(r, $"GenCI intents, {r.Rows} users ({trained.Experiment.Name})").Write(Path.Combine(outDir, "intents.svg"));
            var md = string.Format(inv,
                "{0} users, one clicked test row each, D = {1}; t-SNE perplexity {2}, seed {3}.\n\n" +
                "| measure | value |\n|---|---:|\n" +
                "| cosine(short-term intent, its own target) | {4:F4} |\n| cosine(short-term intent, another user's target) | {5:F4} |\n" +
                "| own target's rank among all targets, by distance to the short-term intent (0 nearest, 0.5 chance) | {9:F4} |\n" +
                "| the same in the 2-D t-SNE layout | {10:F4} |\n" +
                "| relative spread: long-term intents | {6:F4} |\n| relative spread: short-term intents | {7:F4} |\n| relative spread: target items | {8:F4} |\n" +
                "| layout: share whose nearest neighbour is of its own kind — long-term · short-term · targets | {11:F3} · {12:F3} · {13:F3} |\n\n" +
                "Relative spread: mean distance to the kind's centroid over its mean norm.\n",
                r.Rows, r.Dim, parse.GetValue(perplexity), parse.GetValue(seed), r.OwnTargetCosine, r.OtherTargetCosine, r.RelativeSpread[0], r.RelativeSpread[1], r.RelativeSpread[2], r.OwnTargetRank, r.LayoutOwnTargetRank,
                r.LayoutSameKindNeighbour[0], r.LayoutSameKindNeighbour[1], r.LayoutSameKindNeighbour[2]);
            AtomicFile.WriteAllText(Path.Combine(outDir, "intents.md"), md);
            Console.WriteLine(md);
            Console.WriteLine($"written: {Path.Combine(outDir, "intents.svg")}, intents.md");
        });
        return cmd;
    }
}
