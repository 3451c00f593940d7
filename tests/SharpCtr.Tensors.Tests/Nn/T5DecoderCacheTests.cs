using SharpCtr.Tensors.Nn;

namespace SharpCtr.Tensors.Tests.Nn;

using Ops = global::SharpCtr.Tensors.Ops;

/// <summary>
/// The decoder's key/value cache against the plain decoder: projected memory, step-by-step
/// decoding and row selection (beam search) must give what full causal decoding gives.
/// Odd sizes throughout (heads·headDim ≠ dModel, padded memory).
/// </summary>
public class T5DecoderCacheTests
{
    const int Dim = 6, Heads = 3, HeadDim = 5, Ff = 7;

    static Tensor Keep(int b, int len, params int[] lengths)
    {
        var k = Tensor.Zeros(b, len);
        for (int i = 0; i < b; i++) for (int j = 0; j < lengths[i]; j++) k[i, j] = 1;
        return k;
    }

    static T5Decoder Decoder(Rng rng)
    {
        var dec = new T5Decoder(Dim, Heads, HeadDim, Ff, 2, rng, numBuckets: 8, maxDistance: 16);
        // off the initial values (unit norms), so every weight matters
        foreach (var (_, p) in dec.Parameters())
            for (int i = 0; i < p.Size; i++) p.Data[i] += 0.2f * (float)rng.NextNormal();
        return dec;
    }

    static Tensor Rows(Tensor x, int[] rows) => Ops.IndexSelect(x, rows);

    [Fact]
    public void ProjectedAttentionEqualsAttentionOverTheMemory()
    {
        var rng = new Rng(1);
        var m = new MultiHeadAttention(Dim, Heads, rng, HeadDim, bias: true, scaled: true);
        var q = TestUtil.Randn(rng, 3, 2, Dim);
        var mem = TestUtil.Randn(rng, 3, 7, Dim);
        var keep = Keep(3, 7, 7, 3, 1);
        var bias = TestUtil.Randn(rng, Heads, 2, 7);
        var expected = m.Forward(q, mem, keep, positionBias: bias).ToArray();
        var actual = m.ForwardProjected(q, m.K.Forward(mem), m.V.Forward(mem), keep, bias).ToArray();
        TestUtil.AssertClose(expected, actual, 1e-5f);
        var weights = m.Parameters().Select(p => p.Item2);
        TestUtil.AssertGrad(() => m.ForwardProjected(q, m.K.Forward(mem), m.V.Forward(mem), keep, bias), [q, mem, bias, .. weights], 1e-2f);
    }

    [Fact]
    public void TeacherForcingOverACacheEqualsForwardOverTheMemory()
    {
        var rng = new Rng(2);
        var dec = Decoder(rng);
        var target = TestUtil.Randn(rng, 3, 4, Dim);
        var mem = TestUtil.Randn(rng, 3, 5, Dim);
        var keep = Keep(3, 5, 5, 2, 4);
        var expected = dec.Forward(target, mem, keep).ToArray();
        TestUtil.AssertClose(expected, dec.Forward(target, dec.CreateCache(mem, keep)).ToArray(), 1e-5f);
        // rows that share a memory row (training samples with one history) read it through Select
        int[] rows = [2, 0, 2, 1];
        var shared = dec.Forward(Rows(target, [0, 1, 2, 0]), dec.CreateCache(mem, keep).Select(rows)).ToArray();
        var plain = dec.Forward(Rows(target, [0, 1, 2, 0]), Rows(mem, rows), Ops.Reshape(Rows(keep, rows), 4, 5)).ToArray();
        TestUtil.AssertClose(plain, shared, 1e-5f);
        // gradients: the same as through the plain decoder, for the inputs and every weight
        var inputs = new List<Tensor> { target, mem };
        inputs.AddRange(dec.Parameters().Select(p => p.Item2));
        var direction = TestUtil.Randn(rng, 4, 4, Dim);
        var viaCache = Gradients(() => dec.Forward(Rows(target, [0, 1, 2, 0]), dec.CreateCache(mem, keep).Select(rows)), direction, inputs);
        var viaMemory = Gradients(() => dec.Forward(Rows(target, [0, 1, 2, 0]), Rows(mem, rows), Ops.Reshape(Rows(keep, rows), 4, 5)), direction, inputs);
        for (int i = 0; i < inputs.Count; i++) TestUtil.AssertClose(viaMemory[i], viaCache[i], 1e-4f);
        // and a finite-difference check on a small one-layer decoder
        var small = new T5Decoder(4, 2, 3, 5, 1, rng, numBuckets: 4, maxDistance: 8);
        var t = TestUtil.Randn(rng, 2, 2, 4);
        var m2 = TestUtil.Randn(rng, 2, 3, 4);
        var k2 = Keep(2, 3, 3, 2);
        TestUtil.AssertGrad(() => small.Forward(t, small.CreateCache(m2, k2).Select([1, 0])), [t, m2, .. small.Parameters().Select(p => p.Item2)], 1e-3f);
    }

    /// <summary>d(Σ f() ⊙ direction)/d(input) for each input, by backpropagation.</summary>
    static List<float[]> Gradients(Func<Tensor> f, Tensor direction, List<Tensor> inputs)
    {
        foreach (var x in inputs) { x.RequiresGrad = true; x.ZeroGrad(); }
        using (var tape = Tape.Train()) tape.Backward(Ops.Sum(Ops.Mul(f(), direction)));
        var grads = inputs.Select(x => x.Grad is null ? new float[x.Size] : x.Grad.ToArray()).ToList();
        foreach (var x in inputs) x.ZeroGrad();
        return grads;
    }

    [Fact]
    public void StepByStepDecodingEqualsFullCausalDecoding()
    {
        var rng = new Rng(3);
        var dec = Decoder(rng);
        const int b = 3, len = 5;
        var target = TestUtil.Randn(rng, b, len, Dim);
        var mem = TestUtil.Randn(rng, b, 7, Dim);
        var keep = Keep(b, 7, 7, 3, 6);
        var full = dec.Forward(target, mem, keep);
        using var scope = Tape.Inference();
        var cache = dec.CreateCache(mem, keep);
        for (int t = 0; t < len; t++)
        {
            Assert.Equal(t, cache.Length);
            var y = dec.Step(Ops.Slice(target, 1, t, 1), cache);
            TestUtil.AssertClose(Ops.Slice(full, 1, t, 1).ToArray(), y.ToArray(), 1e-5f);
        }
        Assert.Equal(len, cache.Length);
    }

    [Fact]
    public void SelectedRowsContinueTheirOwnPrefix()
    {
        // beam search: after two steps, new rows continue old rows 2, 0, 0, 1 — the cache must
        // give what decoding those rows' whole prefixes from scratch gives.
        var rng = new Rng(4);
        var dec = Decoder(rng);
        var target = TestUtil.Randn(rng, 3, 4, Dim);
        var mem = TestUtil.Randn(rng, 3, 6, Dim);
        var keep = Keep(3, 6, 6, 4, 2);
        int[] parents = [2, 0, 0, 1];
        var continued = Rows(target, parents);
        // rows 1 and 2 share a prefix but not their last two tokens
        for (int j = 0; j < Dim; j++) { continued[2, 2, j] += 0.5f; continued[2, 3, j] -= 0.3f; }
        var full = dec.Forward(continued, Rows(mem, parents), Ops.Reshape(Rows(keep, parents), 4, 6));
        using var scope = Tape.Inference();
        var cache = dec.CreateCache(mem, keep);
        for (int t = 0; t < 2; t++) dec.Step(Ops.Slice(target, 1, t, 1), cache);
        cache = cache.Select(parents);
        Assert.Equal(2, cache.Length);
        for (int t = 2; t < 4; t++)
        {
            var y = dec.Step(Ops.Slice(continued, 1, t, 1), cache);
            TestUtil.AssertClose(Ops.Slice(full, 1, t, 1).ToArray(), y.ToArray(), 1e-5f);
        }
        // a fresh generation over the same memory starts at position 0 and leaves this cache alone
        var again = cache.WithoutTokens();
        Assert.Equal(0, again.Length);
        Assert.Equal(4, cache.Length);
    }
}
