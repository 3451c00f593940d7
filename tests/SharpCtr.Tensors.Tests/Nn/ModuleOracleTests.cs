using SharpCtr.Tensors.Nn;

namespace SharpCtr.Tensors.Tests.Nn;

using Ops = global::SharpCtr.Tensors.Ops;

/// <summary>Every module against PyTorch: outputs, input gradients and every weight gradient within 1e-4.</summary>
public class ModuleOracleTests
{
    static readonly Rng Seed = new(1);

    /// <summary>Loads the weights, runs forward and backward under a tape, and checks everything.</summary>
    static void Check(ModuleFixture f, Module m, Tensor[] inputs, Func<(string, Tensor)[]> forward)
    {
        f.LoadParameters(m);
        using var tape = Tape.Train();
        var outputs = forward();
        foreach (var (name, y) in outputs) f.AssertMatches("out." + name, y);
        tape.Backward(f.Loss(outputs));
        foreach (var x in inputs) if (x.RequiresGrad) f.AssertInputGrad(x);
        f.AssertParameterGrads(m);
    }

    [Fact]
    public void Linear()
    {
        var f = ModuleFixture.Load("linear");
        var m = new Linear(f.Int("in"), f.Int("out"), Seed);
        var x = f.Input("x");
        Check(f, m, [x], () => [("y", m.Forward(x))]);
    }

    [Fact]
    public void LayerNorm()
    {
        var f = ModuleFixture.Load("layer_norm");
        var m = new LayerNorm(f.Int("dim"));
        var x = f.Input("x");
        Check(f, m, [x], () => [("y", m.Forward(x))]);
    }

    [Fact]
    public void RmsNorm()
    {
        var f = ModuleFixture.Load("rms_norm");
        var m = new RmsNorm(f.Int("dim"));
        var x = f.Input("x");
        Check(f, m, [x], () => [("y", m.Forward(x))]);
    }

    [Theory]
    [InlineData("mha_self_padding")]
    [InlineData("mha_self_causal")]
    public void SelfAttention(string name)
    {
        var f = ModuleFixture.Load(name);
        var m = new MultiHeadAttention(f.Int("dim"), f.Int("heads"), Seed);
        var x = f.Input("x");
        var keep = f.Input("key_keep");
        bool causal = f.Config.GetProperty("causal").GetBoolean();
        Check(f, m, [x], () => [("y", m.Forward(x, x, keep, causal))]);
    }

    [Fact]
    public void CrossAttention()
    {
        var f = ModuleFixture.Load("mha_cross");
        var m = new MultiHeadAttention(f.Int("dim"), f.Int("heads"), Seed);
        var q = f.Input("query");
        var mem = f.Input("memory");
        var keep = f.Input("key_keep");
        Check(f, m, [q, mem], () => [("y", m.Forward(q, mem, keep))]);
    }

    [Fact]
    public void TransformerEncoderLayer()
    {
        var f = ModuleFixture.Load("transformer_encoder_layer");
        var m = new TransformerEncoderLayer(f.Int("dim"), f.Int("heads"), f.Int("ff"), Seed);
        var x = f.Input("x");
        var keep = f.Input("key_keep");
        Check(f, m, [x], () => [("y", m.Forward(x, keep))]);
    }

    [Fact]
    public void TransformerDecoderLayer()
    {
        var f = ModuleFixture.Load("transformer_decoder_layer");
        var m = new TransformerDecoderLayer(f.Int("dim"), f.Int("heads"), f.Int("ff"), Seed);
        var x = f.Input("x");
        var mem = f.Input("memory");
        var keep = f.Input("memory_keep");
        Check(f, m, [x, mem], () => [("y", m.Forward(x, mem, keep))]);
    }

    [Fact]
    public void MlpWithBatchNorm()
    {
        var f = ModuleFixture.Load("mlp_batch_norm");
        var m = new Mlp(f.Int("in"), f.Ints("hidden"), Seed, Activation.Relu, norm: MlpNorm.Batch, outputDim: f.Int("out"));
        var x = f.Input("x");
        Check(f, m, [x], () => [("y", m.Forward(x))]);
        var bn = (BatchNorm)m.Norms[0]!;
        TestUtil.AssertClose(f.Config.GetProperty("running_mean_0").EnumerateArray().Select(e => e.GetSingle()).ToArray(), bn.RunningMean.Span, 1e-5f);
        TestUtil.AssertClose(f.Config.GetProperty("running_var_0").EnumerateArray().Select(e => e.GetSingle()).ToArray(), bn.RunningVar.Span, 1e-5f);
    }

    [Fact]
    public void MlpWithLayerNormAndPRelu()
    {
        var f = ModuleFixture.Load("mlp_layer_norm_prelu");
        var m = new Mlp(f.Int("in"), f.Ints("hidden"), Seed, Activation.PRelu, norm: MlpNorm.Layer);
        var x = f.Input("x");
        Check(f, m, [x], () => [("y", m.Forward(x))]);
    }

    [Fact]
    public void T5Encoder()
    {
        var f = ModuleFixture.Load("t5_encoder");
        var m = new T5Encoder(f.Int("dim"), f.Int("heads"), f.Int("head_dim"), f.Int("ff"), f.Int("layers"), Seed,
            f.Int("buckets"), f.Int("max_distance"));
        var x = f.Input("x");
        var keep = f.Input("key_keep");
        Check(f, m, [x], () => [("y", m.Forward(x, keep))]);
    }

    [Fact]
    public void T5Decoder()
    {
        var f = ModuleFixture.Load("t5_decoder");
        var m = new T5Decoder(f.Int("dim"), f.Int("heads"), f.Int("head_dim"), f.Int("ff"), f.Int("layers"), Seed,
            f.Int("buckets"), f.Int("max_distance"));
        var x = f.Input("x");
        var mem = f.Input("memory");
        var keep = f.Input("memory_keep");
        Check(f, m, [x, mem], () => [("y", m.Forward(x, mem, keep))]);
    }

    [Fact]
    public void Gru()
    {
        var f = ModuleFixture.Load("gru");
        var m = new Gru(f.Int("in"), f.Int("hidden"), Seed);
        var x = f.Input("x");
        var lengths = f.Ints("lengths");
        Check(f, m, [x], () =>
        {
            var (y, h) = m.Forward(x, lengths);
            return [("y", y), ("h", h)];
        });
    }

    [Fact]
    public void Augru()
    {
        var f = ModuleFixture.Load("augru");
        var m = new Augru(f.Int("in"), f.Int("hidden"), Seed);
        var x = f.Input("x");
        var att = f.Input("att");
        var lengths = f.Ints("lengths");
        Check(f, m, [x, att], () =>
        {
            var (y, h) = m.Forward(x, att, lengths);
            return [("y", y), ("h", h)];
        });
    }

    [Fact]
    public void Dice()
    {
        var f = ModuleFixture.Load("dice");
        var m = new Dice(f.Int("dim"), (float)f.Config.GetProperty("eps").GetDouble());
        var x = f.Input("x");
        Check(f, m, [x], () => [("y", m.Forward(x))]);
        // One training step moved the running statistics exactly as BatchNorm1d's.
        var mean = f.Config.GetProperty("running_mean").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var variance = f.Config.GetProperty("running_var").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        TestUtil.AssertClose(mean, m.RunningMean.Span, 1e-5f);
        TestUtil.AssertClose(variance, m.RunningVar.Span, 1e-5f);
    }

    [Fact]
    public void PRelu()
    {
        var f = ModuleFixture.Load("prelu");
        var m = new PRelu(f.Int("dim"));
        var x = f.Input("x");
        Check(f, m, [x], () => [("y", m.Forward(x))]);
    }

    [Fact]
    public void T5BucketsMatchReference()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(ModuleFixture.Directory, "t5_buckets.json")));
        var rel = doc.RootElement.GetProperty("relative").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int checkedSets = 0;
        foreach (var set in doc.RootElement.GetProperty("buckets").EnumerateObject())
        {
            var parts = set.Name.Split('_');
            bool bidirectional = parts[0] == "bi";
            int nb = int.Parse(parts[1]), md = int.Parse(parts[2]);
            var expected = set.Value.EnumerateArray().Select(e => e.GetInt32()).ToArray();
            for (int i = 0; i < rel.Length; i++)
                Assert.True(expected[i] == T5RelativePositionBias.Bucket(rel[i], bidirectional, nb, md),
                    $"{set.Name}: offset {rel[i]} expected bucket {expected[i]}, got {T5RelativePositionBias.Bucket(rel[i], bidirectional, nb, md)}");
            checkedSets++;
        }
        Assert.Equal(4, checkedSets);
    }
}
