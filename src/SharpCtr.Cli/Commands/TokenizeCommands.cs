using System.CommandLine;
using System.Diagnostics;
using SharpCtr.Data;
using SharpCtr.Data.Readers;
using SharpCtr.Models.SemanticIds;

namespace SharpCtr.Cli.Commands;

/// <summary>`sharpctr tokenize &lt;config&gt;`: item vectors → RQ-VAE → semantic-ID file; `--compare FILE` prints any ID file's statistics.</summary>
public static class TokenizeCommands
{
    public static Command Build()
    {
        var config = new Argument<string?>("config") { Description = "tokenizer YAML (configs/<dataset>/tokenizer.yaml); optional with --compare", Arity = ArgumentArity.ZeroOrOne };
        var set = new Option<string[]>("--set") { Description = "override a config value, e.g. --set rqvae.epochs=50 (repeatable)" };
        var output = new Option<string?>("--out") { Description = "semantic-ID JSON to write (default: the config's out, .build/semantic-ids/<data set>.json)" };
        var dataDir = new Option<string?>("--data-dir") { Description = "data root (default $SHARPCTR_DATA, then ./data)" };
        var compare = new Option<string[]>("--compare") { Description = "a semantic-ID JSON whose codebook usage and collisions to print (repeatable), e.g. the authors' file" };
        var cmd = new Command("tokenize", "Build item semantic IDs (RQ-VAE) and report codebook usage, collisions and reconstruction") { config, set, output, dataDir, compare };
        cmd.SetAction(p =>
        {
            var configPath = p.GetValue(config);
            var others = p.GetValue(compare) ?? [];
            if (configPath == null && others.Length == 0) throw new Data.Config.ConfigException("tokenize: give a tokenizer config, or --compare FILE");
            Func<string, string[]?>? attributeOf = null;
            string attribute = "";
            if (configPath != null)
            {
                var overrides = (p.GetValue(set) ?? []).ToList();
                if (p.GetValue(output) is { } o) overrides.Add("out=" + o);
                var cfg = TokenizerConfig.Load(configPath, overrides);
                var sw = Stopwatch.StartNew();
                var r = Tokenizer.Run(cfg, DataRoot.Resolve(p.GetValue(dataDir)), Console.Error.WriteLine);
                var t = r.Training;
                Console.WriteLine($"reconstruction MSE {t.ReconstructionMse:G4} per element; predicting the mean vector: {t.ChanceMse:G4} ({t.ReconstructionMse / t.ChanceMse:P1} of chance)");
                Console.WriteLine($"wrote {cfg.Out} ({r.Keys.Count:N0} items, {sw.Elapsed.TotalSeconds:F1} s)");
                if (cfg.Data != null)
                {
                    // does a code mean something? pairs of items sharing it should share a genre (a category) more than any two items do
                    var raw = DatasetLoader.ReadRaw(cfg.Data, DataRoot.Resolve(p.GetValue(dataDir)));
                    attribute = raw.ItemAttributes.Has("genre") ? "genre" : "category";
                    attributeOf = key => raw.Items.Find(key) is var i and >= 0 ? raw.ItemAttributes.Get(i, attribute) : null;
                }
                Print($"ours ({cfg.Out})", SemanticIdReader.Read(cfg.Out), cfg.Model.CodebookSize, attribute, attributeOf);
            }
            foreach (var file in others) Print(file, SemanticIdReader.Read(file), 256, attribute, attributeOf);
        });
        return cmd;
    }

    static void Print(string title, Dictionary<string, int[]> ids, int codebookSize, string attribute, Func<string, string[]?>? attributeOf)
    {
        var stats = SemanticIdStats.Of(ids);
        Console.Write(stats.ToText(title, codebookSize));
        if (attributeOf != null && AttributeCoherence.Of(attribute, ids, stats.Levels, attributeOf) is { } coherence) Console.WriteLine(coherence);
    }
}
