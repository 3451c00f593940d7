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
        cmd.SetAction(p => DataCommands.Run(() =>
        {
            var configPath = p.GetValue(config);
            var others = p.GetValue(compare) ?? [];
            if (configPath == null && others.Length == 0) throw new Data.Config.ConfigException("tokenize: give a tokenizer config, or --compare FILE");
            if (configPath != null)
            {
                var overrides = (p.GetValue(set) ?? []).ToList();
                if (p.GetValue(output) is { } o) overrides.Add("out=" + o);
                var cfg = TokenizerConfig.Load(configPath, overrides);
                var sw = Stopwatch.StartNew();
                var r = Tokenizer.Run(cfg, DataRoot.Resolve(p.GetValue(dataDir)), Console.Error.WriteLine);
                var t = r.Training;
                Console.WriteLine($"reconstruction MSE {t.ReconstructionMse:G4} per element; predicting the mean vector: {t.ChanceMse:G4} ({t.ReconstructionMse / t.ChanceMse:P1} of chance)");
                Console.Write(r.Stats.ToText($"ours ({cfg.Out})", cfg.Model.CodebookSize));
                Console.WriteLine($"wrote {cfg.Out} ({r.Keys.Count:N0} items, {sw.Elapsed.TotalSeconds:F1} s)");
            }
            foreach (var file in others)
                Console.Write(SemanticIdStats.Of(SemanticIdReader.Read(file)).ToText(file));
        }));
        return cmd;
    }
}
