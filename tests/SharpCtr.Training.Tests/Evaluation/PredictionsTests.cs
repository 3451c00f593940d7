using System.Globalization;
using System.Text.Json;
using SharpCtr.Data.Encoded;
using SharpCtr.Data.Schema;
using SharpCtr.Training.Evaluation;
using SharpCtr.Training.Experiments;
using SharpCtr.Training.Tests.Models;

namespace SharpCtr.Training.Tests.Evaluation;

public sealed class PredictionsTests(PlantedDataFixture fixture) : IClassFixture<PlantedDataFixture>
{
    [Fact]
    public void AReloadedRunWritesEveryTestRowWithItsIdsLabelAndTheScoresBehindItsRecordedMetrics()
    {
        var data = fixture.Data;
        var cfg = Path.Combine(data.Root, "predict-lr.yaml");
        File.WriteAllText(cfg, "name: lr\ndata: {include: data.yaml}\nmodel: {name: lr}\ntrain: {epochs: 1, batch_size: 256, learning_rate: 0.01, seed: 3}\n");
        var outDir = Path.Combine(data.Root, "predict-compare");
        new Comparison([cfg], seeds: 1, outDir, data.Root, [], TextWriter.Null).Run("lr", "lr");
        var runDir = Path.Combine(outDir, "lr", "seed3");
        var run = TrainedRun.Load(runDir, data.Root);

        var p = Predictions.Of(run, Splits.Test);
        using (var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(runDir, "metrics.json"))))
        {
            var test = metrics.RootElement.GetProperty("test");
            Assert.Equal(test.GetProperty("auc").GetDouble(), p.Metrics.Auc, 1e-9);
            Assert.Equal(test.GetProperty("logloss").GetDouble(), p.Metrics.LogLoss, 1e-9);
            Assert.Equal(test.GetProperty("rows").GetInt32(), p.Samples.Length);
        }

        var csv = Path.Combine(data.Root, "predictions.csv");
        p.WriteCsv(run.Data, csv);
        var lines = File.ReadAllLines(csv);
        Assert.Equal("row,user_id,item_id,label,score", lines[0]);
        Assert.Equal(p.Samples.Length + 1, lines.Length);
        var users = run.Data.Vocabulary("user_id");
        var items = run.Data.Vocabulary("item_id");
        var userIds = run.Data.Field("user_id").Ids;
        var itemIds = run.Data.Field("item_id").Ids;
        for (int r = 0; r < p.Samples.Length; r++)
        {
            var cells = lines[r + 1].Split(',');
            int i = p.Samples[r];
            Assert.Equal(r.ToString(CultureInfo.InvariantCulture), cells[0]);
            Assert.Equal(users.Token(userIds[i]), cells[1]);
            Assert.Equal(items.Token(itemIds[i]), cells[2]);
            Assert.Equal(run.Data.Labels[i], float.Parse(cells[3], CultureInfo.InvariantCulture));
            Assert.Equal(p.Scores[r], float.Parse(cells[4], CultureInfo.InvariantCulture));   // the same bits back
        }
        // the planted users are 1…400 in the raw file, and the first test row belongs to the first user
        Assert.Equal("1", lines[1].Split(',')[1]);
    }

    [Fact]
    public void AnImpressionLogGetsItsRequestIdsAndAnOddValueIsQuotedOrLeftEmpty()
    {
        // three rows of two requests; the item vocabulary holds a value with a comma, and row 2's item is out of vocabulary
        var data = new EncodedDataset
        {
            Name = "impressions", Count = 3, Labels = [1, 0, 0], User = [0, 0, 0], Group = [0, 0, 1], Split = [2, 2, 2],
            GroupRequestIds = [17, 42],
            Fields =
            [
                new EncodedField { Name = "item_id", Kind = "categorical", Source = "item_id", VocabSize = 4, Ids = [2, 3, Vocabulary.OutOfVocabulary] },
            ],
            Vocabularies = [new Vocabulary("item_id", ["a,b", "say \"hi\""], 1, 0)],
            UserCount = 1,
        };
        var samples = data.Indices(Splits.Test);
        float[] scores = [0.75f, 0.1f, 1e-7f];
        var p = new Predictions(samples, scores, Evaluator.Metrics(data, samples, scores));
        var csv = Path.Combine(fixture.Data.Root, "impressions.csv");
        p.WriteCsv(data, csv);
        Assert.Equal(
            ["row,item_id,request_id,label,score", "0,\"a,b\",17,1,0.75", "1,\"say \"\"hi\"\"\",17,0,0.1", "2,,42,0,1E-07"],
            File.ReadAllLines(csv));

        // a hashed id space keeps no raw values: the column is left out rather than written empty
        var hashed = new EncodedDataset
        {
            Name = data.Name, Count = data.Count, Labels = data.Labels, User = data.User, Group = data.Group, Split = data.Split,
            GroupRequestIds = data.GroupRequestIds, Fields = data.Fields,
            Vocabularies = [new Vocabulary("item_id", [], 1, hashBuckets: 2)], UserCount = 1,
        };
        p.WriteCsv(hashed, csv);
        Assert.Equal("row,request_id,label,score", File.ReadLines(csv).First());
    }
}
