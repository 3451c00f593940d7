using SharpCtr.Tensors.Kernels;
using SharpCtr.Tensors.Nn;
using Activation = SharpCtr.Tensors.Nn.Activation;
using static SharpCtr.Tensors.Tests.Kernels.KernelTestUtil;

namespace SharpCtr.Tensors.Tests.Kernels;

/// <summary>The fused small-batch MLP against plain loops in double, and against the Mlp module's layer-by-layer path.</summary>
[Collection("KernelSettings")]
public class SmallMlpKernelTests
{
    static double[] Reference(float[] x, int rows, int inDim, InferenceLayer[] hidden, InferenceLayer? output)
    {
        var result = new List<double>();
        for (int r = 0; r < rows; r++)
        {
            var h = new double[inDim];
            for (int p = 0; p < inDim; p++) h[p] = x[r * inDim + p];
            foreach (var l in hidden.Append(output).OfType<InferenceLayer>())
                h = ReferenceLayer(l, h);
            result.AddRange(h);
        }
        return result.ToArray();
    }

    static InferenceLayer Layer(Random rng, int inDim, int outDim, InferenceActivation act) => RandomLayer(rng, inDim, outDim, act, weightScale: 1f / MathF.Sqrt(inDim));

    [Theory]
    [InlineData(100, 176, new[] { 256, 256, 256 }, InferenceActivation.Dice, 1)]   // a DIN request
    [InlineData(7, 33, new[] { 64, 32 }, InferenceActivation.Relu, 1)]             // rows and input width not multiples of 4 / 16
    [InlineData(1, 16, new[] { 16 }, InferenceActivation.PRelu, 3)]                // one row; odd output width
    [InlineData(13, 20, new[] { 48, 96 }, InferenceActivation.Identity, 16)]        // output through the blocked product
    [InlineData(5, 12, new int[0], InferenceActivation.Relu, 2)]                   // no hidden layer: the output layer alone
    public void MatchesPlainLoops(int rows, int inDim, int[] widths, InferenceActivation act, int outDim)
    {
        var rng = new Random(rows * 31 + inDim);
        var hidden = new InferenceLayer[widths.Length];
        int d = inDim;
        for (int i = 0; i < widths.Length; i++) { hidden[i] = Layer(rng, d, widths[i], act); d = widths[i]; }
        var output = Layer(rng, d, outDim, InferenceActivation.Identity);
        var x = Random(rng, rows * inDim);
        var y = new float[rows * outDim];
        SmallMlpKernel.Forward(x, rows, inDim, hidden, output, y);
        AssertClose(Reference(x, rows, inDim, hidden, output), y, 1e-4, 1e-4, $"{act} rows={rows}");
    }

    [Theory]
    [InlineData(Activation.Dice)]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.PRelu)]
    public void MlpModuleGivesTheSameScoresFusedAndLayerByLayer(Activation activation)
    {
        var mlp = new Mlp(40, [64, 32], new Rng(3), activation, outputDim: 1);
        var rng = new Random(4);
        // Move the running statistics and slopes away from their initial values so they matter.
        foreach (var (name, t) in mlp.Parameters().Concat(mlp.Buffers()))
            if (name.Contains("acts")) for (int i = 0; i < t.Size; i++) t.Data[i] = name.EndsWith("running_var") ? 0.5f + (float)rng.NextDouble() : (float)rng.NextDouble() - 0.5f;
        mlp.Eval();
        var x = Tensor.FromArray(Random(rng, 37 * 40), 37, 40);
        using (Tape.Inference())   // temporaries go back to the pool when the scope ends: compare inside it
        {
            var fused = mlp.Forward(x);
            mlp.FusedInference = false;
            var plain = mlp.Forward(x);
            Assert.Equal(plain.Shape, fused.Shape);
            AssertClose(plain.Data.AsSpan(0, plain.Size), fused.Data.AsSpan(0, fused.Size), 1e-5, 1e-4, activation.ToString());
        }
    }

    [Fact]
    public void EachRowIsComputedIndependentlyOfTheOthers()
    {
        // Batch scoring equals one-by-one scoring bit for bit: no cross-row blocking changes a row's sums.
        var rng = new Random(6);
        InferenceLayer[] hidden = [Layer(rng, 24, 64, InferenceActivation.Dice), Layer(rng, 64, 32, InferenceActivation.Dice)];
        var output = Layer(rng, 32, 1, InferenceActivation.Identity);
        var x = Random(rng, 9 * 24);
        var batch = new float[9];
        SmallMlpKernel.Forward(x, 9, 24, hidden, output, batch);
        for (int r = 0; r < 9; r++)
        {
            var one = new float[1];
            SmallMlpKernel.Forward(x.AsSpan(r * 24, 24), 1, 24, hidden, output, one);
            Assert.Equal(batch[r], one[0]);
        }
    }

    [Fact]
    public void ReluLayersWithPackedWeightsSkipZerosAndKeepTheValues()
    {
        // A frozen ReLU MLP (packed weights) with negative biases, so that most of a hidden layer's
        // outputs are 0 in whole 4-row blocks as in a trained DeepFM: the next layer's product then
        // skips them. Against the same layers unpacked (the dense product) and plain loops.
        var rng = new Random(21);
        InferenceLayer Packed(int inDim, int outDim, InferenceActivation act)
        {
            var l = Layer(rng, inDim, outDim, act);
            var bias = l.Bias!.Select(v => v - 0.35f).ToArray();
            return l with { Bias = bias, Panels = SmallMatMul.Pack(l.Weight, inDim, outDim) };
        }
        InferenceLayer[] packed = [Packed(48, 256, InferenceActivation.Relu), Packed(256, 256, InferenceActivation.Relu), Packed(256, 64, InferenceActivation.Relu)];
        var output = Layer(rng, 64, 1, InferenceActivation.Identity);
        InferenceLayer[] unpacked = [.. packed.Select(l => l with { Panels = null })];
        const int rows = 100;
        var x = Random(rng, rows * 48);
        float[] skipping = new float[rows], dense = new float[rows];
        SmallMlpKernel.Forward(x, rows, 48, packed, output, skipping);
        SmallMlpKernel.Forward(x, rows, 48, unpacked, output, dense);
        Assert.Equal(dense, skipping);
        AssertClose(Reference(x, rows, 48, packed, output), skipping, 1e-4, 1e-4, "relu, skipping zeros");

        // the premise: the first layer leaves more than a tenth of its positions 0 across whole blocks
        var h = new double[rows * 256];
        int allZero = 0;
        for (int r = 0; r < rows; r++)
        {
            var v = ReferenceLayer(packed[0], x.Skip(r * 48).Take(48).Select(f => (double)f).ToArray());
            Array.Copy(v, 0, h, r * 256, 256);
        }
        for (int block = 0; block < rows / 4; block++)
            for (int p = 0; p < 256; p++)
                if (Enumerable.Range(0, 4).All(r => h[(block * 4 + r) * 256 + p] == 0)) allZero++;
        Assert.True(allZero > rows / 4 * 256 / 10, $"only {allZero} all-zero positions of {rows / 4 * 256}");
    }

    [Fact]
    public void TwoThreadsGiveTheSameBitsAsOne()
    {
        var rng = new Random(8);
        InferenceLayer[] hidden = [Layer(rng, 70, 256, InferenceActivation.Dice), Layer(rng, 256, 256, InferenceActivation.Dice)];
        var output = Layer(rng, 256, 1, InferenceActivation.Identity);
        const int rows = 101;   // big enough to split; not a multiple of 4
        var x = Random(rng, rows * 70);
        float[] one = new float[rows], two = new float[rows];
        int saved = KernelThreads.Max;
        try
        {
            KernelThreads.Max = 1;
            SmallMlpKernel.Forward(x, rows, 70, hidden, output, one);
            using (KernelThreads.Allow(2)) SmallMlpKernel.Forward(x, rows, 70, hidden, output, two);
        }
        finally { KernelThreads.Max = saved; }
        Assert.Equal(one, two);
    }

    /// <summary>An MLP with trained-looking activations, frozen, and a request's input: every row shares
    /// <paramref name="requestColumns"/> (row 0's values), the other columns differ per row.</summary>
    static (Mlp Mlp, Tensor X) Request(Activation activation, int rows, int inDim, int[] requestColumns, int seed)
    {
        var mlp = new Mlp(inDim, [64, 32], new Rng((ulong)seed), activation, outputDim: 1);
        var rng = new Random(seed);
        foreach (var (name, t) in mlp.Parameters().Concat(mlp.Buffers()))
            if (name.Contains("acts") || name.EndsWith("bias"))
                for (int i = 0; i < t.Size; i++) t.Data[i] = name.EndsWith("running_var") ? 0.5f + (float)rng.NextDouble() : (float)rng.NextDouble() - 0.5f;
        mlp.Freeze();
        var x = Random(rng, rows * inDim);
        foreach (int c in requestColumns)
            for (int r = 1; r < rows; r++) x[r * inDim + c] = x[c];
        return (mlp, Tensor.FromArray(x, rows, inDim));
    }

    [Theory]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.Dice)]
    [InlineData(Activation.PRelu)]
    public void RequestColumnsAreFoldedIntoTheFirstLayer(Activation activation)
    {
        // The user's columns in two runs (as DeepFM's fields: user fields first, pooled history last).
        int[] user = [.. Enumerable.Range(0, 24), .. Enumerable.Range(56, 16)];
        var (mlp, x) = Request(activation, 37, 72, user, 11);
        using (Tape.Inference())
        {
            Assert.True(mlp.TryForwardRequest(x, user, out var folded));
            var plain = mlp.Forward(x);
            Assert.Equal(plain.Shape, folded.Shape);
            AssertClose(plain.Data.AsSpan(0, plain.Size), folded.Data.AsSpan(0, folded.Size), 1e-5, 1e-5, activation.ToString());
            mlp.FusedInference = false;
            var layerByLayer = mlp.Forward(x);
            AssertClose(layerByLayer.Data.AsSpan(0, layerByLayer.Size), folded.Data.AsSpan(0, folded.Size), 1e-5, 1e-5, activation + " layer by layer");
        }
    }

    [Fact]
    public void RequestPathStepsAsideWhenItDoesNotApply()
    {
        int[] user = [.. Enumerable.Range(8, 16)];
        var (mlp, x) = Request(Activation.Relu, 20, 40, user, 12);
        using (Tape.Inference())
        {
            var plain = mlp.Forward(x);
            // One row whose user column differs by one bit: not one request, so no folding — and
            // Forward(x, columns) then gives Forward(x)'s bits.
            var other = x.Clone();
            other.Data[5 * 40 + 20] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(other.Data[20]) ^ 1);
            Assert.False(mlp.TryForwardRequest(other, user, out _));
            Assert.Equal(mlp.Forward(other).Data.AsSpan(0, 20).ToArray(), mlp.Forward(other, user).Data.AsSpan(0, 20).ToArray());
            // One row: nothing to share (and a lone row keeps Forward's bits).
            Assert.False(mlp.TryForwardRequest(Tensor.FromArray(x.Data.AsSpan(0, 40).ToArray(), 1, 40), user, out _));
            // Every column shared: nothing left for the rows.
            Assert.False(mlp.TryForwardRequest(x, [.. Enumerable.Range(0, 40)], out _));
            Assert.True(mlp.TryForwardRequest(x, user, out _));
        }
        // Not frozen (evaluation during training), or recording: the ordinary path.
        mlp.Eval();
        using (Tape.Inference()) Assert.False(mlp.TryForwardRequest(x, user, out _));
        mlp.Freeze();
        using (Tape.Train()) Assert.False(mlp.TryForwardRequest(x, user, out _));
        // A weight written after freezing (the guard of Linear.Panels) drops the folded copy too.
        mlp.Layers[0].Weight.Data[0] += 1;
        using (Tape.Inference()) Assert.False(mlp.TryForwardRequest(x, user, out _));
        mlp.Freeze();
        using (Tape.Inference()) Assert.Throws<ArgumentOutOfRangeException>(() => mlp.TryForwardRequest(x, [40], out _));
    }

    [Fact]
    public void AnMlpWithoutHiddenLayersScoresARequestThroughTheOrdinaryPath()
    {
        // `mlp: []` (a linear deep part): there is no first layer to fold the user's columns into.
        // This threw IndexOutOfRangeException from the request path before it declined.
        var mlp = new Mlp(40, [], new Rng(5), Activation.Relu, outputDim: 1);
        mlp.Freeze();
        var rng = new Random(5);
        var x = Random(rng, 12 * 40);
        for (int r = 1; r < 12; r++) for (int c = 8; c < 24; c++) x[r * 40 + c] = x[c];
        var t = Tensor.FromArray(x, 12, 40);
        using (Tape.Inference())
        {
            Assert.False(mlp.TryForwardRequest(t, [.. Enumerable.Range(8, 16)], out _));
            Assert.Equal(mlp.Forward(t).ToArray(), mlp.Forward(t, [.. Enumerable.Range(8, 16)]).ToArray());
        }
    }

    [Fact]
    public void RequestPathFollowsANewFreeze()
    {
        // Weights changed between two freezes (a model trained further, then frozen again): the folded
        // first layer must be rebuilt from the new weights.
        int[] user = [.. Enumerable.Range(0, 16)];
        var (mlp, x) = Request(Activation.Relu, 12, 32, user, 13);
        using (Tape.Inference()) Assert.True(mlp.TryForwardRequest(x, user, out _));
        mlp.Eval();
        for (int i = 0; i < mlp.Layers[0].Weight.Size; i++) mlp.Layers[0].Weight.Data[i] *= -0.5f;
        mlp.Freeze();
        using (Tape.Inference())
        {
            Assert.True(mlp.TryForwardRequest(x, user, out var folded));
            var plain = mlp.Forward(x);
            AssertClose(plain.Data.AsSpan(0, plain.Size), folded.Data.AsSpan(0, folded.Size), 1e-5, 1e-5, "after a second freeze");
        }
    }
}
