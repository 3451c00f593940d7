namespace SharpCtr.Tensors.Nn;

public enum MlpNorm { None, Batch, Layer }

/// <summary>
/// A multilayer perceptron as CTR models use it: per hidden layer Linear → norm (optional batch
/// or layer norm) → activation → dropout, then an optional output Linear without activation.
/// Parameter names: "layers.i.*", "norms.i.*", "acts.i.*" (PReLU/Dice), "output.*".
/// </summary>
public sealed class Mlp : Module
{
    public readonly int InputDim;
    public readonly Activation Activation;
    public readonly float DropoutP;
    public readonly Linear[] Layers;
    public readonly Module?[] Norms;
    public readonly Module?[] Acts;
    public readonly Linear? Output;
    readonly Rng dropoutRng;
    protected override IEnumerable<(string, Rng)> LocalRngs() { yield return ("dropout", dropoutRng); }

    /// <param name="outputDim">size of a final linear layer, or 0 for none (the last hidden layer is the output).</param>
    public Mlp(int inputDim, int[] hidden, Rng rng, Activation activation = Activation.Relu, float dropout = 0f,
        MlpNorm norm = MlpNorm.None, int outputDim = 0)
    {
        if (dropout < 0 || dropout >= 1) throw new ArgumentOutOfRangeException(nameof(dropout), $"dropout must be in [0, 1), got {dropout}");
        InputDim = inputDim;
        Activation = activation;
        DropoutP = dropout;
        Layers = new Linear[hidden.Length];
        Norms = new Module?[hidden.Length];
        Acts = new Module?[hidden.Length];
        int d = inputDim;
        for (int i = 0; i < hidden.Length; i++)
        {
            Layers[i] = new Linear(d, hidden[i], rng);
            Norms[i] = norm switch
            {
                MlpNorm.Batch => new BatchNorm(hidden[i]),
                MlpNorm.Layer => new LayerNorm(hidden[i]),
                _ => null,
            };
            Acts[i] = activation switch
            {
                Activation.PRelu => new PRelu(hidden[i]),
                Activation.Dice => new Dice(hidden[i]),
                _ => null,
            };
            d = hidden[i];
        }
        if (outputDim > 0) Output = new Linear(d, outputDim, rng);
        OutputDim = outputDim > 0 ? outputDim : d;
        dropoutRng = rng.Fork();
    }

    public int OutputDim { get; }

    protected override IEnumerable<(string, Module)> Children()
    {
        for (int i = 0; i < Layers.Length; i++)
        {
            yield return ("layers." + i, Layers[i]);
            if (Norms[i] is { } n) yield return ("norms." + i, n);
            if (Acts[i] is { } a) yield return ("acts." + i, a);
        }
        if (Output is not null) yield return ("output", Output);
    }

    /// <summary>The fused bias+activation kernel for a parameter-free activation, or null.</summary>
    static Kernels.Activation? FusedKernel(Activation a) => a switch
    {
        Activation.None => Kernels.Activation.Identity,
        Activation.Relu => Kernels.Activation.Relu,
        Activation.Gelu => Kernels.Activation.GeluErf,
        Activation.Tanh => Kernels.Activation.Tanh,
        Activation.Sigmoid => Kernels.Activation.Sigmoid,
        _ => null,
    };

    /// <summary>Whether inference over at most <see cref="Kernels.SmallMlpKernel.MaxRows"/> rows (a request's candidates)
    /// runs as one fused kernel; tests compare it with the layer-by-layer path.</summary>
    public bool FusedInference { get; set; } = true;

    /// <summary>x [..., InputDim] → [..., OutputDim].</summary>
    public Tensor Forward(Tensor x)
    {
        if (FusedInference && !Training && !Tape.IsRecording && x.Rows <= Kernels.SmallMlpKernel.MaxRows && x.Cols == InputDim
            && InferenceForm.Of(this) is { } form)
        {
            var shape = (int[])x.Shape.Clone();
            shape[^1] = OutputDim;
            var y = Tensor.Temp(shape);
            Kernels.SmallMlpKernel.Forward(x.Data, x.Rows, InputDim, form.Hidden, form.Output, y.Data);
            return y;
        }
        for (int i = 0; i < Layers.Length; i++)
        {
            if (Norms[i] is null && FusedKernel(Activation) is { } fused)
            {
                x = Layers[i].Forward(x, fused);
                if (Training && DropoutP > 0) x = Ops.Dropout(x, DropoutP, dropoutRng);
                continue;
            }
            x = Layers[i].Forward(x);
            x = Norms[i] switch
            {
                BatchNorm bn => bn.Forward(x),
                LayerNorm ln => ln.Forward(x),
                _ => x,
            };
            x = Acts[i] switch
            {
                PRelu p => p.Forward(x),
                Dice dice => dice.Forward(x),
                _ => Activations.Apply(Activation, x),
            };
            if (Training && DropoutP > 0) x = Ops.Dropout(x, DropoutP, dropoutRng);
        }
        return Output is null ? x : Output.Forward(x);
    }
}
