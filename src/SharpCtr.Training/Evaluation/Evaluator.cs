using SharpCtr.Data.Batching;
using SharpCtr.Data.Encoded;
using SharpCtr.Models;
using SharpCtr.Tensors;
using SharpCtr.Training.Metrics;

namespace SharpCtr.Training.Evaluation;

/// <summary>Metrics of one split: AUC, LogLoss, GAUC (per group, weighted by rows), UAUC (per user, unweighted).</summary>
public sealed record SplitMetrics(double Auc, double LogLoss, double Gauc, double Uauc, int Rows)
{
    public double Get(string metric) => metric switch
    {
        "auc" => Auc,
        "logloss" => LogLoss,
        "gauc" => Gauc,
        "uauc" => Uauc,
        "auc-logloss" => Auc - LogLoss,   // FuxiCTR's default monitor ({AUC: 1, logloss: -1})
        _ => throw new ArgumentException($"unknown metric '{metric}'"),
    };

    /// <summary>Whether <paramref name="a"/> is better than <paramref name="b"/> for this metric.</summary>
    public static bool Better(string metric, double a, double b) => metric == "logloss" ? a < b : a > b;
}

/// <summary>Scores samples without recording gradients and computes metrics.</summary>
public static class Evaluator
{
    /// <summary>Click probabilities of <paramref name="samples"/>, in their order. Leaves the model in inference mode.</summary>
    public static float[] Predict(CtrModel model, EncodedDataset data, int[] samples, int batchSize)
    {
        model.Eval();
        var scores = new float[samples.Length];
        int offset = 0;
        foreach (var batch in new BatchLoader(data, samples, batchSize, shuffle: false).Epoch())
        {
            using (Tape.Inference())
            {
                var logits = model.Forward(batch).Logits;
                for (int i = 0; i < batch.Count; i++) scores[offset + i] = Scalar.Sigmoid(logits.Data[i]);
            }
            offset += batch.Count;
        }
        return scores;
    }

    public static SplitMetrics Metrics(EncodedDataset data, int[] samples, float[] scores)
    {
        var labels = new float[samples.Length];
        var groups = new int[samples.Length];
        var users = new int[samples.Length];
        for (int i = 0; i < samples.Length; i++)
        {
            labels[i] = data.Labels[samples[i]];
            groups[i] = data.Group[samples[i]];
            users[i] = data.User[samples[i]];
        }
        return new SplitMetrics(
            Auc.Compute(scores, labels),
            LogLoss.FromProbabilities(scores, labels),
            GroupAuc.Compute(scores, labels, groups).Gauc,
            GroupAuc.Compute(scores, labels, users).Uauc,
            samples.Length);
    }
}
