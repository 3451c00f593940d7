using SharpCtr.Tensors.Nn;

namespace SharpCtr.Tensors.Tests.Nn;

using Ops = global::SharpCtr.Tensors.Ops;

/// <summary>Finite-difference gradient checks of every module on tiny sizes, inputs and all weights.</summary>
public class ModuleGradCheckTests
{
    static Tensor[] With(Module m, params Tensor[] inputs)
    {
        var all = new List<Tensor>(inputs);
        foreach (var (_, p) in m.Parameters()) all.Add(p);
        return all.ToArray();
    }

    static Tensor Keep(int b, int len, params int[] lengths)
    {
        var k = Tensor.Zeros(b, len);
        for (int i = 0; i < b; i++) for (int j = 0; j < lengths[i]; j++) k[i, j] = 1;
        return k;
    }

    /// <summary>Moves every parameter a little off its initial value (zero biases, unit norms) so all paths are exercised.</summary>
    static void Jitter(Module m, Rng rng)
    {
        foreach (var (_, p) in m.Parameters())
            for (int i = 0; i < p.Size; i++) p.Data[i] += 0.2f * (float)rng.NextNormal();
    }

    [Fact]
    public void Linear()
    {
        var rng = new Rng(1);
        var m = new Linear(3, 2, rng);
        Jitter(m, rng);
        var x = TestUtil.Randn(rng, 2, 2, 3);
        TestUtil.AssertGrad(() => m.Forward(x), With(m, x));
    }

    [Theory]
    [InlineData(Activation.Relu, MlpNorm.None)]
    [InlineData(Activation.PRelu, MlpNorm.Layer)]
    [InlineData(Activation.Dice, MlpNorm.None)]
    [InlineData(Activation.Gelu, MlpNorm.Batch)]
    [InlineData(Activation.Tanh, MlpNorm.None)]
    [InlineData(Activation.Gelu, MlpNorm.None)]
    [InlineData(Activation.Sigmoid, MlpNorm.None)]
    [InlineData(Activation.None, MlpNorm.None)]
    [InlineData(Activation.Sigmoid, MlpNorm.Layer)]
    public void Mlp(Activation act, MlpNorm norm)
    {
        var rng = new Rng(2);
        var m = new Mlp(4, [5, 3], rng, act, dropout: 0f, norm, outputDim: 1);
        Jitter(m, rng);
        var x = TestUtil.Randn(rng, 6, 4);
        TestUtil.AssertGrad(() => m.Forward(x), With(m, x));
    }

    [Fact]
    public void Norms()
    {
        var rng = new Rng(3);
        var ln = new LayerNorm(5);
        var rms = new RmsNorm(5);
        var bn = new BatchNorm(5);
        Jitter(ln, rng); Jitter(rms, rng); Jitter(bn, rng);
        var x = TestUtil.Randn(rng, 3, 5);
        TestUtil.AssertGrad(() => ln.Forward(x), With(ln, x));
        TestUtil.AssertGrad(() => rms.Forward(x), With(rms, x));
        TestUtil.AssertGrad(() => bn.Forward(x), With(bn, x));
    }

    [Fact]
    public void DiceInTrainingAndInference()
    {
        var rng = new Rng(4);
        var m = new Dice(3);
        Jitter(m, rng);
        var x = TestUtil.Randn(rng, 2, 4, 3);
        TestUtil.AssertGrad(() => m.Forward(x), With(m, x));
        m.Eval();
        TestUtil.AssertGrad(() => m.Forward(x), With(m, x));
    }

    [Fact]
    public void PRelu()
    {
        var rng = new Rng(5);
        var m = new PRelu(3);
        var x = TestUtil.Randn(rng, 4, 3);
        TestUtil.AssertGrad(() => m.Forward(x), With(m, x));
    }

    [Fact]
    public void Embedding()
    {
        var rng = new Rng(6);
        var m = new Embedding(5, 3, rng, std: 1f);
        int[] ids = [1, 0, 4, 1, 2, 0];
        TestUtil.AssertGrad(() => m.Forward(ids, 2, 3), With(m));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SelfAttention(bool causal)
    {
        var rng = new Rng(7);
        var m = new MultiHeadAttention(4, 2, rng);
        Jitter(m, rng);
        var x = TestUtil.Randn(rng, 2, 3, 4);
        var keep = Keep(2, 3, 3, 2);
        TestUtil.AssertGrad(() => m.Forward(x, x, keep, causal), With(m, x));
    }

    [Fact]
    public void AttentionCoreWithDropoutCausalAndPerBatchBias()
    {
        var rng = new Rng(12);
        var q = TestUtil.Randn(rng, 2, 3, 4);
        var k = TestUtil.Randn(rng, 2, 3, 4);
        var v = TestUtil.Randn(rng, 2, 3, 4);
        var bias = TestUtil.Randn(rng, 2, 2, 3, 3);
        float[] keep = [1, 1, 0, 1, 1, 1];
        // A fresh generator per call gives the same dropout mask every time, so finite differences apply.
        TestUtil.AssertGrad(() => AttentionCore.Attend(q, k, v, 2, 2, 0.7f, bias, keep, true, 0.3f, new Rng(5)), q, k, v, bias);
    }

    [Fact]
    public void CrossAttentionWithBias()
    {
        var rng = new Rng(8);
        var m = new MultiHeadAttention(4, 2, rng, headDim: 3, bias: false, scaled: false);
        var q = TestUtil.Randn(rng, 2, 2, 4);
        var mem = TestUtil.Randn(rng, 2, 3, 4);
        var bias = TestUtil.Randn(rng, 2, 2, 3);
        var keep = Keep(2, 3, 1, 3);
        TestUtil.AssertGrad(() => m.Forward(q, mem, keep, positionBias: bias), With(m, q, mem, bias));
    }

    [Fact]
    public void TransformerEncoderLayer()
    {
        var rng = new Rng(9);
        var post = new TransformerEncoderLayer(4, 2, 6, rng);
        var pre = new TransformerEncoderLayer(4, 2, 6, rng, normFirst: true, gelu: true);
        Jitter(post, rng); Jitter(pre, rng);
        var x = TestUtil.Randn(rng, 2, 3, 4);
        var keep = Keep(2, 3, 3, 2);
        TestUtil.AssertGrad(() => post.Forward(x, keep), With(post, x));
        TestUtil.AssertGrad(() => pre.Forward(x, keep), With(pre, x));
    }

    [Fact]
    public void T5EncoderAndDecoder()
    {
        var rng = new Rng(10);
        var enc = new T5Encoder(4, 2, 3, 5, 1, rng, numBuckets: 4, maxDistance: 8);
        var dec = new T5Decoder(4, 2, 3, 5, 1, rng, numBuckets: 4, maxDistance: 8);
        Jitter(enc, rng); Jitter(dec, rng);
        var x = TestUtil.Randn(rng, 2, 3, 4);
        var t = TestUtil.Randn(rng, 2, 2, 4);
        var keep = Keep(2, 3, 3, 2);
        // A small step: the ReLU feed-forward has kinks close to some of these points.
        TestUtil.AssertGrad(() => enc.Forward(x, keep), With(enc, x), 1e-3f);
        TestUtil.AssertGrad(() => dec.Forward(t, x, keep), With(dec, t, x), 1e-3f);
    }

    [Fact]
    public void GruAndAugru()
    {
        var rng = new Rng(11);
        var gru = new Gru(3, 2, rng);
        var augru = new Augru(3, 2, rng);
        var x = TestUtil.Randn(rng, 2, 3, 3);
        var att = TestUtil.Uniform(rng, 0, 1, 2, 3);
        int[] lengths = [3, 2];
        TestUtil.AssertGrad(() => { var (y, h) = gru.Forward(x, lengths); return Ops.Concat([Ops.Reshape(y, 2, 6), h], 1); }, With(gru, x));
        TestUtil.AssertGrad(() => { var (y, h) = augru.Forward(x, att, lengths); return Ops.Concat([Ops.Reshape(y, 2, 6), h], 1); }, With(augru, x, att));
    }
}
