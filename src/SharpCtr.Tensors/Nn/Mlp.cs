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

    /// <summary>
    /// x [rows, InputDim] → [rows, OutputDim] for the candidates of one ranking request, whose
    /// columns <paramref name="requestColumns"/> (the user's fields and pooled history) should
    /// hold the same values in every row. <see cref="TryForwardRequest"/> when it applies, else
    /// <see cref="Forward(Tensor)"/>.
    /// </summary>
    public Tensor Forward(Tensor x, int[]? requestColumns) =>
        requestColumns is not null && TryForwardRequest(x, requestColumns, out var y) ? y : Forward(x);

    /// <summary>
    /// Scoring a request without repeating its user: when the module is frozen (<see cref="Module.Freeze"/>),
    /// nothing records, x is [2 ≤ rows ≤ <see cref="Kernels.SmallMlpKernel.MaxRows"/>, InputDim] and
    /// the columns <paramref name="requestColumns"/> are bit-identical in every row, their share of
    /// the first layer, x[0, request]·W[request, :], is computed once and added to its bias, and
    /// the rows run the fused MLP over the other columns only (DeepFM on MovieLens-1M: 48 of its
    /// 144 inputs are the candidate's). Returns false, computing nothing, when any condition fails.
    /// The first layer then sums its inputs in another order than <see cref="Forward(Tensor)"/>:
    /// the scores agree to rounding, not bit for bit. An MLP without hidden layers (`mlp: []`, a
    /// linear deep part) has no first layer to fold into and always declines.
    /// </summary>
    public bool TryForwardRequest(Tensor x, int[] requestColumns, out Tensor y)
    {
        y = null!;
        if (Layers.Length == 0 || !FusedInference || Training || Tape.IsRecording || x.Rank != 2 || x.Cols != InputDim || x.Rows < 2 || x.Rows > Kernels.SmallMlpKernel.MaxRows)
            return false;
        if (Layers[0].Panels is null || InferenceForm.Of(this) is not { } form) return false;   // Panels: frozen, weights unchanged
        var split = requestSplit;
        if (split is null || split.Columns != requestColumns)   // dropped by every Freeze/Eval/Train (Frozen)
            requestSplit = split = RequestSplit.Build(Layers[0], requestColumns);
        if (split.RowColumns.Length == 0 || !split.SameInEveryRow(x.Data, x.Rows, InputDim)) return false;

        var first = form.Hidden[0];
        var biasArray = Tensor.Temp([first.Out]).Data;   // pooled for the scope like the other temporaries (may be longer than Out)
        var bias = biasArray.AsSpan(0, first.Out);
        if (first.Bias is { } b) b.CopyTo(bias);
        else bias.Clear();
        for (int s = 0; s < requestColumns.Length; s++)
        {
            float v = x.Data[requestColumns[s]];
            if (v != 0) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(split.RequestWeight.AsSpan(s * first.Out, first.Out), v, bias, bias);
        }
        var hidden = (Kernels.InferenceLayer[])form.Hidden.Clone();
        hidden[0] = first with { Weight = split.RowWeight, In = split.RowColumns.Length, Panels = split.RowPanels, Bias = biasArray };
        var rowInput = split.Gather(x.Data, x.Rows, InputDim);
        y = Tensor.Temp([x.Rows, OutputDim]);
        Kernels.SmallMlpKernel.Forward(rowInput.Data, x.Rows, split.RowColumns.Length, hidden, form.Output, y.Data);
        Interlocked.Increment(ref foldedRequests);
        return true;
    }

    int foldedRequests;
    /// <summary>How many calls <see cref="TryForwardRequest"/> has folded (tests check that a model's scoring takes the path).</summary>
    public int FoldedRequests => Volatile.Read(ref foldedRequests);

    RequestSplit? requestSplit;

    protected override void Frozen(bool frozen) => requestSplit = null;

    /// <summary>The first layer's weight split by <see cref="TryForwardRequest"/>'s columns, built once per frozen weight.</summary>
    sealed class RequestSplit
    {
        public required int[] Columns, RowColumns;
        public required float[] RequestWeight, RowWeight;
        public required float[]? RowPanels;
        public required (int Start, int Length)[] RequestRuns, RowRuns;

        public static RequestSplit Build(Linear layer, int[] columns)
        {
            var isRequest = new bool[layer.In];
            foreach (int c in columns)
            {
                if ((uint)c >= (uint)layer.In) throw new ArgumentOutOfRangeException(nameof(columns), $"request column {c} is outside the MLP's {layer.In} inputs");
                if (isRequest[c]) throw new ArgumentException($"request column {c} is listed twice", nameof(columns));
                isRequest[c] = true;
            }
            var rows = Enumerable.Range(0, layer.In).Where(c => !isRequest[c]).ToArray();
            int n = layer.Out;
            var w = layer.Weight.Data;
            var requestWeight = new float[columns.Length * n];
            for (int s = 0; s < columns.Length; s++) Array.Copy(w, columns[s] * n, requestWeight, s * n, n);
            var rowWeight = new float[rows.Length * n];
            for (int r = 0; r < rows.Length; r++) Array.Copy(w, rows[r] * n, rowWeight, r * n, n);
            return new RequestSplit
            {
                Columns = columns, RowColumns = rows, RequestWeight = requestWeight, RowWeight = rowWeight,
                RowPanels = Kernels.SmallMatMul.Pack(rowWeight, rows.Length, n),
                RequestRuns = Runs(columns), RowRuns = Runs(rows),
            };
        }

        /// <summary>Consecutive column indices as (start, length) runs, for span copies and compares.</summary>
        static (int, int)[] Runs(int[] columns)
        {
            var runs = new List<(int, int)>();
            for (int i = 0; i < columns.Length;)
            {
                int j = i + 1;
                while (j < columns.Length && columns[j] == columns[j - 1] + 1) j++;
                runs.Add((columns[i], j - i));
                i = j;
            }
            return runs.ToArray();
        }

        public bool SameInEveryRow(float[] x, int rows, int width)
        {
            var bits = System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(x.AsSpan());
            for (int r = 1; r < rows; r++)
                foreach (var (start, length) in RequestRuns)
                    if (!bits.Slice(r * width + start, length).SequenceEqual(bits.Slice(start, length))) return false;
            return true;
        }

        /// <summary>[rows, RowColumns]: the columns the request does not share.</summary>
        public Tensor Gather(float[] x, int rows, int width)
        {
            var g = Tensor.Temp([rows, RowColumns.Length]);
            var dst = g.Data;
            int k = 0;
            for (int r = 0; r < rows; r++)
                foreach (var (start, length) in RowRuns)
                {
                    Array.Copy(x, r * width + start, dst, k, length);
                    k += length;
                }
            return g;
        }
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
            Kernels.SmallMlpKernel.Forward(x.Data, x.Rows, InputDim, form.Hidden, form.Output, y.Data);
            return y;
        }
        LiveColumns? live = null;   // of x, when a ReLU layer made it (dropout keeps its zero columns zero)
        for (int i = 0; i < Layers.Length; i++)
        {
            if (Norms[i] is null && FusedKernel(Activation) is { } fused)
            {
                if (fused == Kernels.Activation.Relu) x = Layers[i].ForwardRelu(x, live, out live);
                else { x = Layers[i].Forward(x, fused); live = null; }
                if (Training && DropoutP > 0) x = Ops.Dropout(x, DropoutP, dropoutRng);
                continue;
            }
            live = null;
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
