using System.Numerics.Tensors;

namespace SharpCtr.Tensors.Optim;

/// <summary>
/// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_: the L2 norm over all
/// gradients (dense and sparse rows) is computed and, if above max_norm, every gradient is scaled
/// by max_norm / (norm + 1e-6). Kept apart from <see cref="Optimizer.Step"/> so it can run after
/// a data-parallel all-reduce.
/// </summary>
public static class GradientClipping
{
    public static float GlobalNorm(IReadOnlyList<Tensor> parameters)
    {
        double sumSq = 0;
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.Grad is { } g) sumSq += TensorPrimitives.SumOfSquares(g.Span);
            if (p.SparseGrad is { } sg)
                for (int r = 0; r < sg.Count; r++) sumSq += TensorPrimitives.SumOfSquares(sg.Values(r));
        }
        return (float)Math.Sqrt(sumSq);
    }

    /// <summary>Scales gradients so their global norm is at most <paramref name="maxNorm"/>; returns the norm before clipping.</summary>
    public static float ClipByGlobalNorm(IReadOnlyList<Tensor> parameters, float maxNorm)
    {
        if (!(maxNorm > 0f)) throw new ArgumentOutOfRangeException(nameof(maxNorm), $"max norm must be > 0, got {maxNorm}");
        float norm = GlobalNorm(parameters);
        float scale = maxNorm / (norm + 1e-6f);
        if (scale >= 1f) return norm;
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.Grad is { } g) TensorPrimitives.Multiply(g.Span, scale, g.Span);
            if (p.SparseGrad is { } sg)
                for (int r = 0; r < sg.Count; r++) TensorPrimitives.Multiply(sg.Values(r), scale, sg.Values(r));
        }
        return norm;
    }
}
