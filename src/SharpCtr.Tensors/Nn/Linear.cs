namespace SharpCtr.Tensors.Nn;

/// <summary>
/// y = x·W + b. The weight is stored [in, out] (the transpose of PyTorch's [out, in]) so the
/// forward pass is one GEMM without a transpose and any leading axes of x fold into its rows.
/// Initialised Xavier-uniform with a zero bias.
/// </summary>
public sealed class Linear : Module
{
    public readonly int In, Out;
    public readonly Tensor Weight;
    public readonly Tensor? Bias;

    public Linear(int inFeatures, int outFeatures, Rng rng, bool bias = true)
    {
        In = inFeatures;
        Out = outFeatures;
        Weight = Tensor.Parameter("weight", inFeatures, outFeatures);
        Init.XavierUniform(Weight, rng);
        if (bias) Bias = Tensor.Parameter("bias", outFeatures);
    }

    float[]? panels;
    readonly float[] sampled = new float[8];

    /// <summary>
    /// The weight packed for <see cref="Kernels.SmallMatMul"/> while the module is frozen, else
    /// null. A frozen module promises its weights stay put; as a guard against a write that
    /// breaks the promise (a checkpoint loaded without Eval), eight weights spread over the matrix
    /// are compared with their values at packing on every read, and a change drops the copy.
    /// </summary>
    public float[]? Panels
    {
        get
        {
            var p = panels;
            if (p is null) return null;
            var w = Weight.Data;
            for (int s = 0; s < sampled.Length; s++)
                if (BitConverter.SingleToInt32Bits(w[SampleIndex(s, w.Length)]) != BitConverter.SingleToInt32Bits(sampled[s]))
                {
                    panels = null;
                    return null;
                }
            return p;
        }
    }

    static int SampleIndex(int s, int length) => (int)((long)s * (length - 1) / 7);

    protected override void Frozen(bool frozen)
    {
        panels = null;
        if (!frozen) return;
        var w = Weight.Data;
        for (int s = 0; s < sampled.Length; s++) sampled[s] = w[SampleIndex(s, w.Length)];
        panels = Kernels.SmallMatMul.Pack(w, In, Out);
    }

    protected override IEnumerable<(string, Tensor)> LocalParameters()
    {
        yield return ("weight", Weight);
        if (Bias is not null) yield return ("bias", Bias);
    }

    /// <summary>x [..., In] → [..., Out].</summary>
    public Tensor Forward(Tensor x)
    {
        if (x.Rank == 0 || x.Shape[^1] != In)
            throw new ArgumentException($"Linear({In}→{Out}): input shape {Tensor.ShapeString(x.Shape)} does not end in {In}");
        // With a bias: the fused identity kernel (one parallel pass; its backward hands the output
        // gradient on) instead of a broadcast add.
        return Bias is null ? Ops.MatMul(x, Weight) : Forward(x, Kernels.Activation.Identity);
    }

    /// <summary>
    /// relu(x·W + b) (<see cref="Ops.LinearRelu"/>), told which of x's columns may be nonzero
    /// (the live columns of the ReLU layer that made x, or null), and telling the same of its output.
    /// </summary>
    public Tensor ForwardRelu(Tensor x, LiveColumns? inputLive, out LiveColumns outputLive)
    {
        var y = Ops.LinearRelu(x, Weight, Bias, inputLive, out outputLive);
        Interlocked.Increment(ref reluForwards);
        Interlocked.Add(ref reluLiveUnits, outputLive.Count);
        return y;
    }

    long reluForwards, reluLiveUnits;

    /// <summary>
    /// The mean share of this layer's units that some row of the batch switched on, over its
    /// <see cref="ForwardRelu"/> calls so far (null before any): the products skip the rest
    /// (design note 50). `bench train` prints it.
    /// </summary>
    public double? LiveUnitShare
    {
        get
        {
            long calls = Interlocked.Read(ref reluForwards);
            return calls == 0 || Out == 0 ? null : Interlocked.Read(ref reluLiveUnits) / ((double)calls * Out);
        }
    }

    /// <summary>act(x·W + b) with the bias and activation fused into one pass (and one tape op).</summary>
    public Tensor Forward(Tensor x, Kernels.Activation activation)
    {
        if (x.Rank == 0 || x.Shape[^1] != In)
            throw new ArgumentException($"Linear({In}→{Out}): input shape {Tensor.ShapeString(x.Shape)} does not end in {In}");
        if (activation == Kernels.Activation.Relu) return Ops.LinearRelu(x, Weight, Bias);
        var z = Ops.MatMul(x, Weight);
        int rows = z.Rows;
        var y = Tensor.Temp(z.Shape);
        var bias = Bias is null ? ReadOnlySpan<float>.Empty : Bias.Span;
        Kernels.BiasActivation.Forward(z.Span, bias, rows, Out, activation, y.Span);
        if (Tape.IsRecording && (z.RequiresGrad || Bias is { RequiresGrad: true }))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                if (activation == Kernels.Activation.Identity)
                {
                    // dz = dy: z takes y's gradient buffer when it may. The bias gradient sums rows in
                    // order, as the broadcast add did, so models without an activation here keep their bits.
                    var gy = y.Grad;
                    if (z.RequiresGrad && !Tape.TryMoveGrad(y, z))
                    {
                        var gz = z.GradBufferForWrite(out bool zFresh).Span;
                        if (zFresh) gy.Span.CopyTo(gz);
                        else System.Numerics.Tensors.TensorPrimitives.Add(gz, gy.Span, gz);
                    }
                    if (Bias is { RequiresGrad: true })
                    {
                        var gb = Bias.GradBuffer().Data;
                        for (int r = 0; r < rows; r++) Kernels.RowMath.AddRow(gy.Data, r * Out, gb, 0, Out);
                    }
                    return;
                }
                bool fresh = false;
                var dz = z.RequiresGrad ? z.GradBufferForWrite(out fresh).Span : Span<float>.Empty;
                var db = Bias is { RequiresGrad: true } ? Bias.GradBuffer().Span : Span<float>.Empty;
                Kernels.BiasActivation.Backward(z.Span, Bias is null ? ReadOnlySpan<float>.Empty : Bias.Span, y.Span, y.Grad.Span,
                    rows, Out, activation, dz, db, overwriteDx: fresh);
            });
        return y;
    }
}
