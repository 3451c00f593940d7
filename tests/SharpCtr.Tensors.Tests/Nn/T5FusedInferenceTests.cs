using SharpCtr.Tensors.Nn;

namespace SharpCtr.Tensors.Tests.Nn;

using Ops = global::SharpCtr.Tensors.Ops;

/// <summary>
/// The fused T5 inference path against the op graph it replaces: encoder outputs on every real
/// token, zero padding rows, decoding steps, packed (frozen) weights, and the inputs it declines.
/// </summary>
public class T5FusedInferenceTests
{
    static void Perturb(Module m, Rng rng)
    {
        // off the initial values (unit norms, zero-ish biases), so every weight matters
        foreach (var (_, p) in m.Parameters())
            for (int i = 0; i < p.Size; i++) p.Data[i] += 0.2f * (float)rng.NextNormal();
    }

    static (int[] Ids, Tensor Keep) Histories(Rng rng, int vocab, int len, params int[] lengths)
    {
        var ids = new int[lengths.Length * len];
        var keep = Tensor.Zeros(lengths.Length, len);
        for (int h = 0; h < lengths.Length; h++)
            for (int i = 0; i < lengths[h]; i++) { ids[h * len + i] = 1 + rng.NextInt(vocab - 1); keep[h, i] = 1; }
        return (ids, keep);
    }

    [Theory]
    [InlineData(32, 2, 16, 64, 2)]
    [InlineData(16, 3, 16, 16, 1)]
    [InlineData(32, 4, 8, 32, 1)]    // heads narrower than 16: the strided-GEMM attention
    public void EncoderMatchesTheOpGraphOnRealTokensAndZeroesPadding(int dModel, int heads, int headDim, int dFf, int layers)
    {
        var rng = new Rng(5);
        var tokens = new Embedding(40, dModel, rng, std: 1f);
        var enc = new T5Encoder(dModel, heads, headDim, dFf, layers, rng, numBuckets: 8, maxDistance: 16);
        Perturb(enc, rng);
        enc.Eval();
        const int len = 40;
        int[] lengths = [1, 13, 40, 7];
        var (ids, keep) = Histories(rng, 40, len, lengths);
        float[] expected, fused, frozen;
        using (Tape.Inference())
        {
            expected = enc.Forward(tokens.Forward(ids, lengths.Length, len), keep).ToArray();
            fused = T5FusedInference.Encode(enc, tokens, ids, lengths.Length, len, keep.Data)!.ToArray();
        }
        enc.Freeze();
        using (Tape.Inference()) frozen = T5FusedInference.Encode(enc, tokens, ids, lengths.Length, len, keep.Data)!.ToArray();
        Assert.Equal(fused, frozen);   // packed and plain weights: the same sums in the same order
        for (int h = 0; h < lengths.Length; h++)
        {
            int real = lengths[h] * dModel, at = h * len * dModel;
            TestUtil.AssertClose(expected.AsSpan(at, real), fused.AsSpan(at, real), 2e-5f);
            Assert.All(fused.AsSpan(at + real, (len - lengths[h]) * dModel).ToArray(), v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void EncoderDeclinesWhatItDoesNotCover()
    {
        var rng = new Rng(6);
        var tokens = new Embedding(20, 16, rng, std: 1f);
        var enc = new T5Encoder(16, 2, 8, 16, 1, rng);
        enc.Eval();
        var (ids, keep) = Histories(rng, 20, 10, 4, 0);
        using (Tape.Inference())
        {
            Assert.Null(T5FusedInference.Encode(enc, tokens, ids, 2, 10, keep.Data));                 // a history without tokens
            keep[0, 1] = 0;
            Assert.Null(T5FusedInference.Encode(enc, tokens, ids[..10], 1, 10, keep.Data[..10]));     // a hole in the keep mask
            keep[0, 1] = 1;
            Assert.NotNull(T5FusedInference.Encode(enc, tokens, ids[..10], 1, 10, keep.Data[..10]));
            var many = Histories(rng, 20, 10, Enumerable.Repeat(3, T5FusedInference.MaxHistories + 1).ToArray());
            Assert.Null(T5FusedInference.Encode(enc, tokens, many.Ids, T5FusedInference.MaxHistories + 1, 10, many.Keep.Data));
        }
        enc.Train();
        using (Tape.Inference()) Assert.Null(T5FusedInference.Encode(enc, tokens, ids[..10], 1, 10, keep.Data[..10]));
        var narrow = new T5Encoder(12, 2, 8, 16, 1, rng);                                             // d_model not a multiple of 16
        narrow.Eval();
        using (Tape.Inference()) Assert.Null(T5FusedInference.Encode(narrow, new Embedding(20, 12, rng), ids[..10], 1, 10, keep.Data[..10]));
    }

    [Theory]
    [InlineData(32, 2, 16, 64, 2)]
    [InlineData(16, 1, 16, 32, 3)]
    [InlineData(32, 4, 8, 32, 1)]
    public void DecodingStepsMatchTheCachedOpGraph(int dModel, int heads, int headDim, int dFf, int layers)
    {
        var rng = new Rng(7);
        var tokens = new Embedding(30, dModel, rng, std: 1f);
        var dec = new T5Decoder(dModel, heads, headDim, dFf, layers, rng, numBuckets: 8, maxDistance: 16);
        Perturb(dec, rng);
        dec.Eval();
        const int rows = 3, ls = 11, steps = 4;
        var memory = TestUtil.Randn(rng, rows, ls, dModel);
        var keep = Tensor.Zeros(rows, ls);
        int[] lengths = [11, 1, 6];
        for (int r = 0; r < rows; r++) for (int j = 0; j < lengths[r]; j++) keep[r, j] = 1;
        using var tape = Tape.Inference();
        var cache = dec.CreateCache(memory, keep);
        var fused = T5FusedInference.Decoding.Start(dec, cache.WithoutTokens(), steps)!;
        var reference = cache.WithoutTokens();
        for (int s = 0; s < steps; s++)
        {
            var ids = Enumerable.Range(0, rows).Select(_ => 1 + rng.NextInt(29)).ToArray();
            var expected = Ops.Reshape(dec.Step(tokens.Forward(ids, rows, 1), reference), rows, dModel).ToArray();
            TestUtil.AssertClose(expected, fused.Step(tokens, ids).ToArray(), 2e-5f);
        }
        Assert.Throws<InvalidOperationException>(() => fused.Step(tokens, [1, 1, 1]));
    }

    [Fact]
    public void DecodingDeclinesTrainingModeAndManyRows()
    {
        var rng = new Rng(8);
        var dec = new T5Decoder(16, 2, 8, 16, 1, rng);
        var cache = dec.CreateCache(TestUtil.Randn(rng, 1, 5, 16));
        Assert.Null(T5FusedInference.Decoding.Start(dec, cache, 3));   // a new module trains
        dec.Eval();
        Assert.NotNull(T5FusedInference.Decoding.Start(dec, cache, 3));
        Assert.Null(T5FusedInference.Decoding.Start(dec, dec.CreateCache(TestUtil.Randn(rng, T5FusedInference.MaxHistories + 1, 5, 16)), 3));
    }
}
