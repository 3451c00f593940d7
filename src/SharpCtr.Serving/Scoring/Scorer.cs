using SharpCtr.Data.Batching;
using SharpCtr.Serving.Bundles;
using SharpCtr.Tensors;

namespace SharpCtr.Serving.Scoring;

/// <summary>One forward pass in inference mode over a request's batch → click probabilities.</summary>
public static class Scorer
{
    /// <summary>Runs on the calling thread from start to end: the inference tape and its buffer pool are per thread.</summary>
    public static float[] Score(ModelBundle bundle, Batch batch)
    {
        var scores = new float[batch.Count];
        using (Tape.Inference())
        {
            var logits = bundle.Model.Forward(batch).Logits.Span;
            for (int i = 0; i < scores.Length; i++)
            {
                scores[i] = Scalar.Sigmoid(logits[i]);
                if (!float.IsFinite(scores[i])) throw new InvalidOperationException($"bundle {bundle.Version}: model produced {scores[i]} for candidate {i}");
            }
        }
        return scores;
    }

    /// <summary>A request may name the model or bundle version it expects; another one is a 404.</summary>
    public static void CheckModel(ModelBundle bundle, ScoreRequest request)
    {
        if (request.Model is { } wanted && wanted != bundle.ModelName && wanted != bundle.Version)
            throw new RequestException(404, "unknown model", $"field 'model': '{wanted}' is not loaded (serving {bundle.ModelName} version {bundle.Version})");
    }

    /// <summary>History positions the model read: the request's (or store's) events, up to the sequence length.</summary>
    public static int HistoryLength(ModelBundle bundle, ScoreInput input) =>
        bundle.Schema.Sequence is { } s ? Math.Min(input.History?.Count ?? 0, s.MaxLen) : 0;
}
