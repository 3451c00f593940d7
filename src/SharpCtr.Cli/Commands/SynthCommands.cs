using System.CommandLine;
using System.Diagnostics;
using SharpCtr.Data.Encoded;
using SharpCtr.Data.Synthetic;
using SharpCtr.Training.Metrics;

namespace SharpCtr.Cli.Commands;

/// <summary>`sharpctr synth &lt;generator.yaml&gt; --out DIR [--seed N]`: write a synthetic search log.</summary>
public static class SynthCommands
{
    public static Command Build()
    {
        var config = new Argument<FileInfo>("generator") { Description = "Generator config, e.g. configs/synthetic-search/generator-moderate.yaml" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for requests.jsonl, items.jsonl, truth.jsonl", Required = true };
        var seed = new Option<ulong?>("--seed") { Description = "Overrides the config's seed" };
        var synth = new Command("synth", "Generate a synthetic search log with its ground truth") { config, output, seed };
        synth.SetAction(parse =>
        {
            var options = SyntheticSearchConfig.Load(parse.GetValue(config)!.FullName);
            if (parse.GetValue(seed) is { } s) options.Seed = s;
            var clock = Stopwatch.StartNew();
            var log = SearchLogGenerator.Generate(options);
            var dir = parse.GetValue(output)!.FullName;
            SearchLogWriter.Write(log, dir);
            Console.WriteLine($"wrote {dir} (seed {options.Seed}) in {clock.Elapsed.TotalSeconds:F1} s");
            Console.WriteLine(SyntheticLogStats.Compute(log));
            var (all, last) = OracleAuc(log);
            Console.WriteLine($"oracle AUC (the generator's click probability, true intent known): all impressions {all:F4}, each user's last 10 % of requests {last:F4}");
            return 0;
        });
        return synth;
    }

    /// <summary>
    /// AUC of <see cref="SyntheticRequest.ClickProbability"/> against the recorded clicks: what a model
    /// that knew each request's true intent could reach — a ceiling for models of the log. Over
    /// every impression, and over each user's last 10 % of requests (the test split of
    /// configs/synthetic-search/data.yaml: ratio_per_user 8:1:1 over a user's requests).
    /// </summary>
    static (double All, double LastTenth) OracleAuc(SyntheticSearchLog log)
    {
        double[] ratios = [0.8, 0.1, 0.1];
        var perUser = new int[log.Users];
        foreach (var r in log.Requests) perUser[r.User]++;
        var seen = new int[log.Users];
        var (scores, labels, testScores, testLabels) = (new List<float>(), new List<float>(), new List<float>(), new List<float>());
        foreach (var r in log.Requests)
        {
            bool test = Splits.RatioPerUser(seen[r.User]++, perUser[r.User], ratios) == Splits.Test;
            for (int i = 0; i < r.Items.Length; i++)
            {
                scores.Add((float)r.ClickProbability[i]);
                labels.Add(r.Clicked[i] ? 1f : 0f);
                if (!test) continue;
                testScores.Add((float)r.ClickProbability[i]);
                testLabels.Add(r.Clicked[i] ? 1f : 0f);
            }
        }
        return (Auc.Compute(scores.ToArray(), labels.ToArray()), Auc.Compute(testScores.ToArray(), testLabels.ToArray()));
    }
}
