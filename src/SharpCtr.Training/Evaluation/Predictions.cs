using System.Globalization;
using System.Text;
using SharpCtr.Data.Encoded;
using SharpCtr.Tensors.IO;
using SharpCtr.Training.Experiments;
using SharpCtr.Training.Reports;

namespace SharpCtr.Training.Evaluation;

/// <summary>
/// A finished run's click probability for every row of one split, for the user's own metrics,
/// calibration plots or joins with their logs. Rows keep the data set's stored order (user by
/// user, chronological): the order the run's own metrics were computed in, so the metrics here
/// are the run's (unless the data or the code changed since).
/// </summary>
public sealed record Predictions(int[] Samples, float[] Scores, SplitMetrics Metrics)
{
    public static Predictions Of(TrainedRun run, byte split)
    {
        var samples = run.Data.Indices(split);
        var scores = Evaluator.Predict(run.Model, run.Data, samples, run.Experiment.Train.EvalBatchSize);
        return new Predictions(samples, scores, Evaluator.Metrics(run.Data, samples, scores));
    }

    /// <summary>
    /// One line per row: its position in the split, the raw user and item ids (where the data set
    /// has user_id / item_id fields that are not hashed; empty for a value outside the vocabulary), the request id of
    /// an impression log, the label and the score (shortest text that reads back to the same float).
    /// Written atomically.
    /// </summary>
    public void WriteCsv(EncodedDataset data, string path)
    {
        var user = RawIds(data, "user_id");
        var item = RawIds(data, "item_id");
        bool requests = data.GroupRequestIds.Length > 0;
        var inv = CultureInfo.InvariantCulture;
        AtomicFile.Write(path, stream =>
        {
            using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            w.Write("row");
            if (user is not null) w.Write(",user_id");
            if (item is not null) w.Write(",item_id");
            if (requests) w.Write(",request_id");
            w.Write(",label,score\n");
            for (int r = 0; r < Samples.Length; r++)
            {
                int i = Samples[r];
                w.Write(r.ToString(inv));
                if (user is not null) { w.Write(','); w.Write(user(i)); }
                if (item is not null) { w.Write(','); w.Write(item(i)); }
                if (requests) { w.Write(','); w.Write(data.GroupRequestIds[data.Group[i]].ToString(inv)); }
                w.Write(',');
                w.Write(data.Labels[i].ToString(inv));
                w.Write(',');
                w.Write(Scores[r].ToString("R", inv));
                w.Write('\n');
            }
        });
    }

    /// <summary>Row → raw value of the categorical field read from <paramref name="source"/>; null when the
    /// data set has none, or hashes it (a hashed vocabulary keeps no raw values to give back).</summary>
    static Func<int, string>? RawIds(EncodedDataset data, string source)
    {
        var field = data.Fields.Find(f => f.Source == source && f.Kind == "categorical");
        if (field is null) return null;
        var vocabulary = data.Vocabulary(source);
        if (vocabulary.HashBuckets > 0) return null;
        return i => CsvReport.Field(vocabulary.Token(field.Ids[i]) ?? "");
    }
}
