using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors.Nn;

/// <summary>
/// Modules in the form the fused inference kernels take (<see cref="InferenceLayer"/>), or null
/// when a kernel does not cover them (normalisation layers, activations other than identity,
/// ReLU, PReLU and Dice). Dice's running variance becomes 1/sqrt(var + eps) here, once per call.
/// </summary>
public static class InferenceForm
{
    public static InferenceLayer? Of(Linear linear, Module? act, Activation activation)
    {
        var w = linear.Weight.Data;
        var bias = linear.Bias?.Data;
        var panels = linear.Panels;
        switch (act)
        {
            case Dice d:
                var inv = new float[d.Dim];
                for (int j = 0; j < d.Dim; j++) inv[j] = 1f / MathF.Sqrt(d.RunningVar.Data[j] + d.Eps);
                return new(w, bias, linear.In, linear.Out, InferenceActivation.Dice, d.Alpha.Data, d.RunningMean.Data, inv, panels);
            case PRelu p:
                return new(w, bias, linear.In, linear.Out, InferenceActivation.PRelu, p.Alpha.Data, Panels: panels);
            case null when activation == Activation.Relu:
                return new(w, bias, linear.In, linear.Out, InferenceActivation.Relu, Panels: panels);
            case null when activation == Activation.None:
                return new(w, bias, linear.In, linear.Out, InferenceActivation.Identity, Panels: panels);
            default:
                return null;
        }
    }

    /// <summary>An MLP's hidden layers and output layer, or null when <see cref="SmallMlpKernel"/> cannot run it.</summary>
    public static (InferenceLayer[] Hidden, InferenceLayer? Output)? Of(Mlp mlp)
    {
        var hidden = new InferenceLayer[mlp.Layers.Length];
        for (int i = 0; i < hidden.Length; i++)
        {
            if (mlp.Norms[i] is not null) return null;
            if (Of(mlp.Layers[i], mlp.Acts[i], mlp.Activation) is { } l) hidden[i] = l; else return null;
        }
        if (!SmallMlpKernel.Supports(hidden)) return null;
        var output = mlp.Output is { } o ? Of(o, null, Activation.None) : null;
        return (hidden, output);
    }
}
