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
}
