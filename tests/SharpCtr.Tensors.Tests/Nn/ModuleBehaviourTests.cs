using SharpCtr.Tensors.Nn;

namespace SharpCtr.Tensors.Tests.Nn;

using Ops = global::SharpCtr.Tensors.Ops;

/// <summary>Module behaviour beyond the oracle: names, masks, padding, modes, initialisers.</summary>
public class ModuleBehaviourTests
{
    [Fact]
    public void ParameterNamesAreHierarchicalAndUnique()
    {
        var enc = new T5Encoder(8, 2, 4, 16, 2, new Rng(1));
        var names = enc.Parameters().Select(p => p.Name).ToList();
        Assert.Contains("layers.0.attn.q.weight", names);
        Assert.Contains("layers.1.ff.wo.weight", names);
        Assert.Contains("rel_bias.weight", names);
        Assert.Contains("final_norm.weight", names);
        Assert.Equal(names.Count, names.Distinct().Count());
        // 2 layers × (2 norms + 4 projections + 2 ff) + bias table + final norm
        Assert.Equal(2 * 8 + 2, names.Count);

        var mlp = new Mlp(4, [8, 8], new Rng(1), Activation.Dice, norm: MlpNorm.Batch, outputDim: 1);
        Assert.Equal(["layers.0.weight", "layers.0.bias", "norms.0.weight", "norms.0.bias", "acts.0.alpha",
            "layers.1.weight", "layers.1.bias", "norms.1.weight", "norms.1.bias", "acts.1.alpha",
            "output.weight", "output.bias"], mlp.Parameters().Select(p => p.Name).ToArray());
        Assert.Equal(["norms.0.running_mean", "norms.0.running_var", "acts.0.running_mean", "acts.0.running_var",
            "norms.1.running_mean", "norms.1.running_var", "acts.1.running_mean", "acts.1.running_var"], mlp.Buffers().Select(p => p.Name).ToArray());
        Assert.Equal(4 * 8 + 8 + 8 + 8 + 8 + 8 * 8 + 8 + 8 + 8 + 8 + 8 + 1, mlp.ParameterCount());
    }

    [Fact]
    public void EmbeddingPaddingRowIsZeroAndGradientIsSparse()
    {
        var emb = new Embedding(10, 3, new Rng(2), std: 1f);
        Assert.All(emb.Weight.Data.AsSpan(0, 3).ToArray(), v => Assert.Equal(0f, v));
        int[] ids = [0, 3, 3, 7];
        using var tape = Tape.Train();
        var y = emb.Forward(ids, 2, 2);
        Assert.Equal([2, 2, 3], y.Shape);
        Assert.All(y.Data.AsSpan(0, 3).ToArray(), v => Assert.Equal(0f, v));
        tape.Backward(Ops.Sum(y));
        Assert.Null(emb.Weight.Grad);
        var dense = emb.Weight.SparseGrad!.ToDense(10);
        Assert.Equal(2f, dense[3 * 3]);
        Assert.Equal(1f, dense[7 * 3 + 2]);
        Assert.Equal(0f, dense[0]);
        Assert.Equal([3, 7], emb.Weight.SparseGrad.Rows.ToArray().Order().ToArray());
    }

    [Fact]
    public void DiceUsesRunningStatisticsInInference()
    {
        var rng = new Rng(3);
        var dice = new Dice(2);
        dice.Alpha.Data[0] = 0.3f; dice.Alpha.Data[1] = -0.2f;
        var x = TestUtil.Randn(rng, 8, 2);
        dice.Forward(x);                                   // one training step moves the running stats
        float m0 = dice.RunningMean.Data[0], v0 = dice.RunningVar.Data[0];
        Assert.NotEqual(0f, m0);
        dice.Eval();
        var one = Tensor.FromArray([1.5f, -0.5f], 1, 2);
        var y = dice.Forward(one);
        Assert.Equal(m0, dice.RunningMean.Data[0]);           // inference does not move them
        float p = Scalar.Sigmoid((1.5f - m0) / MathF.Sqrt(v0 + dice.Eps));
        Assert.Equal(1.5f * (0.3f + p * 0.7f), y.Data[0], 1e-5);
    }

    [Fact]
    public void DropoutOnlyInTraining()
    {
        var rng = new Rng(4);
        var mlp = new Mlp(6, [32], rng, dropout: 0.5f);
        var x = TestUtil.Randn(rng, 4, 6);
        var a = mlp.Forward(x).ToArray();
        var b = mlp.Forward(x).ToArray();
        Assert.NotEqual(a, b);
        mlp.Eval();
        Assert.False(mlp.Layers[0].Training);
        var c = mlp.Forward(x).ToArray();
        var d = mlp.Forward(x).ToArray();
        Assert.Equal(c, d);
        var plain = Ops.Relu(mlp.Layers[0].Forward(x)).ToArray();
        Assert.Equal(plain, c);
    }

    /// <summary>
    /// A ReLU MLP whose hidden layers have units no row switches on (bias −100): the layers pass
    /// those zero columns on and leave them out of their products (Ops.LinearRelu); the output and
    /// every gradient agree with the same net written as MatMul, Add and Relu.
    /// </summary>
    [Fact]
    public void AReluMlpWithDeadUnitsHasTheThreeOpGraphsGradients()
    {
        var rng = new Rng(8);
        var mlp = new Mlp(12, [32, 32], rng, outputDim: 1);
        foreach (var layer in mlp.Layers)
            for (int j = 0; j < 32; j += 4) layer.Bias!.Data[j] = -100f;
        var x = TestUtil.Randn(rng, 20, 12);
        x.RequiresGrad = true;
        var parameters = mlp.Parameters().Select(p => p.Item2).Append(x).ToArray();
        float[][] Run(Func<Tensor> forward)
        {
            foreach (var p in parameters) p.Grad = null;
            using var tape = Tape.Train();
            var y = forward();
            tape.Backward(Ops.Sum(Ops.Mul(y, y)));
            return [y.ToArray(), .. parameters.Select(p => p.Grad!.ToArray())];
        }
        Tensor Graph()
        {
            var h = x;
            foreach (var layer in mlp.Layers) h = Ops.Relu(Ops.Add(Ops.MatMul(h, layer.Weight), layer.Bias!));
            return Ops.Add(Ops.MatMul(h, mlp.Output!.Weight), mlp.Output.Bias!);
        }
        var viaMlp = Run(() => mlp.Forward(x));
        var viaGraph = Run(Graph);
        for (int t = 0; t < viaMlp.Length; t++) TestUtil.AssertClose(viaGraph[t], viaMlp[t], 1e-5f);
        Assert.Equal(24.0 / 32, mlp.Layers[0].LiveUnitShare!.Value, 1e-12);   // one forward so far; 8 of 32 units planted off
        Assert.Null(mlp.Output!.LiveUnitShare);                               // not a ReLU layer
        // The dead units' incoming weights get exactly zero, with dropout between the layers too.
        var dropped = new Mlp(12, [32, 32], new Rng(9), dropout: 0.3f, outputDim: 1);
        foreach (var layer in dropped.Layers)
            for (int j = 0; j < 32; j += 4) layer.Bias!.Data[j] = -100f;
        using (var tape = Tape.Train()) tape.Backward(Ops.Sum(dropped.Forward(x)));
        foreach (var layer in dropped.Layers)
            for (int j = 0; j < 32; j += 4)
                for (int i = 0; i < layer.In; i++) Assert.Equal(0f, layer.Weight.Grad!.Data[i * 32 + j]);
    }

    [Fact]
    public void AttentionIgnoresPaddingAndFuture()
    {
        var rng = new Rng(5);
        var mha = new MultiHeadAttention(8, 2, rng);
        var x = TestUtil.Randn(rng, 1, 5, 8);
        var keep = Tensor.FromArray([1f, 1f, 1f, 0f, 0f], 1, 5);
        var y1 = mha.Forward(x, x, keep, causal: true).ToArray();
        var x2 = x.Clone();
        for (int i = 2 * 8; i < x2.Size; i++) x2.Data[i] += 3f;   // change positions 2.. (future of 0, 1)
        var y2 = mha.Forward(x2, x2, keep, causal: true).ToArray();
        TestUtil.AssertClose(y1.AsSpan(0, 16), y2.AsSpan(0, 16), 1e-6f);
        // a query with every key masked gets the output projection of a zero context (no NaN)
        var none = Tensor.Zeros(1, 5);
        var y3 = mha.Forward(x, x, none).ToArray();
        Assert.All(y3, v => Assert.False(float.IsNaN(v)));
    }

    [Fact]
    public void T5EncoderOnPaddedBatchEqualsOneByOne()
    {
        var rng = new Rng(6);
        var enc = new T5Encoder(8, 2, 4, 16, 2, rng, numBuckets: 8, maxDistance: 16);
        var x = TestUtil.Randn(rng, 2, 6, 8);
        var keep = Tensor.FromArray([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], 2, 6);
        var batch = enc.Forward(x, keep).ToArray();
        var short1 = Ops.Slice(Ops.Slice(x, 0, 1, 1), 1, 0, 3);
        var alone = enc.Forward(short1).ToArray();
        TestUtil.AssertClose(alone, batch.AsSpan(6 * 8, 3 * 8), 1e-5f);
    }

    [Fact]
    public void GruStopsAtEachSequenceLength()
    {
        var rng = new Rng(7);
        var gru = new Gru(3, 4, rng);
        var x = TestUtil.Randn(rng, 2, 5, 3);
        var (y, h) = gru.Forward(x, [5, 2]);
        var ya = y.ToArray(); var ha = h.ToArray();
        Assert.All(ya.AsSpan(5 * 4 + 2 * 4, 3 * 4).ToArray(), v => Assert.Equal(0f, v));
        TestUtil.AssertClose(ya.AsSpan(5 * 4 + 4, 4), ha.AsSpan(4, 4), 0f);
        var (ys, hs) = gru.Forward(Ops.Slice(Ops.Slice(x, 0, 1, 1), 1, 0, 2));
        TestUtil.AssertClose(hs.ToArray(), ha.AsSpan(4, 4), 1e-6f);
        TestUtil.AssertClose(ya.AsSpan(5 * 4, 8), ys.ToArray(), 1e-6f);
    }

    [Fact]
    public void AugruWithZeroAttentionKeepsItsState()
    {
        var rng = new Rng(8);
        var augru = new Augru(3, 4, rng);
        var x = TestUtil.Randn(rng, 2, 4, 3);
        var (_, h) = augru.Forward(x, Tensor.Zeros(2, 4));
        Assert.All(h.ToArray(), v => Assert.Equal(0f, v));
        var (_, h1) = augru.Forward(x, Tensor.Full(1f, 2, 4));
        Assert.Contains(h1.ToArray(), v => v != 0f);
    }

    [Fact]
    public void InitialisersHaveTheirSpread()
    {
        var rng = new Rng(9);
        var w = Tensor.Zeros(200, 300);
        Init.XavierUniform(w, rng);
        float a = MathF.Sqrt(6f / 500);
        Assert.All(w.Data, v => Assert.InRange(v, -a, a));
        Assert.InRange(Std(w.Data), a / MathF.Sqrt(3) * 0.97f, a / MathF.Sqrt(3) * 1.03f);
        Init.XavierNormal(w, rng);
        Assert.InRange(Std(w.Data), MathF.Sqrt(2f / 500) * 0.97f, MathF.Sqrt(2f / 500) * 1.03f);
        Init.Normal(w, rng, 0.05f);
        Assert.InRange(Std(w.Data), 0.05f * 0.97f, 0.05f * 1.03f);
        Init.Zeros(w);
        Assert.All(w.Data, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void SameSeedSameParameters()
    {
        var a = new T5Decoder(8, 2, 4, 16, 2, new Rng(10));
        var b = new T5Decoder(8, 2, 4, 16, 2, new Rng(10));
        foreach (var ((na, pa), (nb, pb)) in a.Parameters().Zip(b.Parameters()))
        {
            Assert.Equal(na, nb);
            Assert.Equal(pa.ToArray(), pb.ToArray());
        }
    }

    [Fact]
    public void WrongShapesSayWhat()
    {
        var lin = new Linear(4, 2, new Rng(11));
        var ex = Assert.Throws<ArgumentException>(() => lin.Forward(Tensor.Zeros(3, 5)));
        Assert.Contains("[3, 5]", ex.Message);
        var gru = new Gru(3, 2, new Rng(11));
        Assert.Throws<ArgumentException>(() => gru.Forward(Tensor.Zeros(2, 4, 3), [5, 1]));
        Assert.Throws<ArgumentException>(() => Activations.Parse("swish"));
    }

    static float Std(float[] v)
    {
        double s = 0, s2 = 0;
        foreach (var x in v) { s += x; s2 += (double)x * x; }
        double m = s / v.Length;
        return (float)Math.Sqrt(s2 / v.Length - m * m);
    }
}
