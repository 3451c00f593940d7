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

    /// <summary>In fused inference, input columns equal on every row (a request's user part) enter the first layer once,
    /// as part of its bias (<see cref="ForwardVarying"/>); off: every column on every row (tests compare the two).</summary>
    public bool SplitFirstLayer { get; set; } = true;

    /// <summary>
    /// The fused forward with the first layer over the <paramref name="varying"/> columns only: the
    /// others hold one value on every row, so their share of the first layer, x₀[const]·W[const],
    /// is computed once and added to the bias. For a 100-candidate request to DeepFM or GenCI
    /// that is 96 of 144 and 128 of 208 first-layer inputs. Sums are regrouped (constant part
    /// first), so scores move by float rounding (~1e-7 relative).
    /// </summary>
    void ForwardVarying(Tensor x, int[] varying, Kernels.InferenceLayer[] hidden, Kernels.InferenceLayer? output, Tensor y)
    {
        int rows = x.Rows, n = varying.Length, outDim = Layers[0].Out;
        var first = Layers[0];
        var (weight, panels) = first.Rows(varying);
        var bias = first.Bias is { } b ? (float[])b.Data.Clone() : new float[outDim];
        var w = first.Weight.Data;
        for (int c = 0, v = 0; c < InputDim; c++)
        {
            if (v < n && varying[v] == c) { v++; continue; }
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(w.AsSpan(c * outDim, outDim), x.Data[c], bias, bias);
        }
        var xv = Tensor.Temp([rows, n]);
        for (int r = 0; r < rows; r++)
        {
            var src = x.Data.AsSpan(r * InputDim, InputDim);
            var dst = xv.Data.AsSpan(r * n, n);
            for (int j = 0; j < n; j++) dst[j] = src[varying[j]];
        }
        var layers = (Kernels.InferenceLayer[])hidden.Clone();
        layers[0] = hidden[0] with { Weight = weight, Panels = panels, In = n, Bias = bias };
        Kernels.SmallMlpKernel.Forward(xv.Data, rows, n, layers, output, y.Data);
    }

    /// <summary>x [..., InputDim] → [..., OutputDim].</summary>
    public Tensor Forward(Tensor x)
    {
        if (FusedInference && !Training && !Tape.IsRecording && x.Rows <= Kernels.SmallMlpKernel.MaxRows && x.Cols == InputDim
            && InferenceForm.Of(this) is { } form)
        {
            var shape = (int[])x.Shape.Clone();
            shape[^1] = OutputDim;
            var y = Tensor.Temp(shape);
            if (Layers.Length > 0 && SplitFirstLayer && Kernels.SmallMlpKernel.VaryingColumns(x.Data, x.Rows, InputDim) is { } varying)
                ForwardVarying(x, varying, form.Hidden, form.Output, y);
            else
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
