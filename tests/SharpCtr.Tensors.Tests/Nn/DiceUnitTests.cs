using SharpCtr.Tensors.Nn;
using static SharpCtr.Tensors.Tests.Kernels.KernelTestUtil;
using O = SharpCtr.Tensors.Ops;

namespace SharpCtr.Tensors.Tests.Nn;

/// <summary>
/// The tiled DIN unit (<see cref="DiceUnit"/>) against the op-by-op graph it replaces
/// (ActivationUnitInput → Dice → Linear → Dice … → Linear, each checked against plain loops
/// elsewhere): scores, every gradient, Dice's running averages; a finite-difference check; and
/// the same bits on 1 or 2 threads. Shapes include odd widths, samples without history, one
/// history longer than a tile, padding rows, and one to three Dice layers.
/// </summary>
[Collection("KernelSettings")]
public class DiceUnitTests
{
    /// <summary>One unit's inputs and layers, made from a seed (two calls with one seed give equal copies).</summary>
    sealed class Unit
    {
        public readonly Tensor Keys, Query, Wk, Wp, QueryProj;
        public readonly Dice First;
        public readonly Mlp Rest;
        public readonly int[] Offsets, RowSample;

        public Unit(int seed, int samples, int maxLen, int k, int h0, int[] hidden, int paddingRows)
        {
            var rng = new Random(seed);
            Offsets = new int[samples + 1];
            for (int s = 0; s < samples; s++) Offsets[s + 1] = Offsets[s] + rng.Next(maxLen + 1);
            int n = Offsets[^1] + paddingRows;
            RowSample = new int[n];
            for (int s = 0; s < samples; s++) for (int r = Offsets[s]; r < Offsets[s + 1]; r++) RowSample[r] = s;
            Tensor P(params int[] shape) { var t = Tensor.FromArray(Random(rng, Tensor.SizeOf(shape)), shape); t.RequiresGrad = true; return t; }
            Keys = P(n, k); Query = P(samples, k); Wk = P(k, h0); Wp = P(k, h0); QueryProj = P(samples, h0);
            for (int r = Offsets[^1]; r < n; r++) Array.Clear(Keys.Data, r * k, k);    // padding rows hold zero keys, as packed histories do
            First = new Dice(h0);
            Rest = new Mlp(h0, hidden, new Rng((ulong)seed), Activation.Dice, outputDim: 1);
            Random(rng, h0, 0.5f).CopyTo(First.Alpha.Data, 0);
            foreach (var (_, p) in Rest.Parameters()) Random(rng, p.Size, 0.7f).CopyTo(p.Data, 0);   // α and biases away from their zero start
        }

        public IEnumerable<Tensor> All() => new[] { Keys, Query, Wk, Wp, QueryProj }.Concat(First.Parameters().Select(p => p.Value)).Concat(Rest.Parameters().Select(p => p.Value));

        public Tensor Tiled() => DiceUnit.Scores(Keys, Query, RowSample, Offsets, Wk, Wp, QueryProj, First, Rest);

        public Tensor OpByOp() => O.Reshape(Rest.Forward(First.Forward(O.ActivationUnitInput(Keys, Query, RowSample, Offsets, Wk, Wp, QueryProj))), -1);

        /// <summary>Scores, then every gradient (inputs, weights, α, biases) and the running averages, after a backward from gs.</summary>
        public float[][] Step(bool tiled, float[] gs)
        {
            using var tape = Tape.Train();
            var scores = tiled ? Tiled() : OpByOp();
            var y = scores.ToArray();
            scores.GradBufferForWrite(out _);
            gs.CopyTo(scores.Grad!.Data, 0);
            tape.BackwardFrom(scores);
            var result = new List<float[]> { y };
            result.AddRange(All().Select(t => t.Grad?.ToArray() ?? new float[t.Size]));
            result.AddRange(First.Buffers().Concat(Rest.Buffers()).Select(b => b.Value.ToArray()));
            return [.. result];
        }
    }

    [Theory]
    [InlineData(3, 4, 5, 7, new[] { 3 }, 2)]          // odd widths, a few rows
    [InlineData(40, 50, 32, 64, new[] { 32 }, 7)]     // DIN's widths, several tiles, padding rows
    [InlineData(20, 6, 4, 6, new int[0], 0)]          // one Dice layer, no padding
    [InlineData(30, 9, 3, 5, new[] { 4, 3 }, 3)]      // three Dice layers
    [InlineData(3, 600, 16, 20, new[] { 17 }, 1)]     // histories longer than a tile
    public void MatchesTheOpByOpGraph(int samples, int maxLen, int k, int h0, int[] hidden, int padding)
    {
        int seed = samples * 31 + k;
        var gs = Random(new Random(seed + 1), new Unit(seed, samples, maxLen, k, h0, hidden, padding).Keys.Rows);
        var tiled = new Unit(seed, samples, maxLen, k, h0, hidden, padding).Step(true, gs);
        var reference = new Unit(seed, samples, maxLen, k, h0, hidden, padding).Step(false, gs);
        AssertClose(reference[0], tiled[0], 1e-4, 1e-4, "scores");
        for (int i = 1; i < reference.Length; i++)
        {
            Assert.Contains(reference[i], v => v != 0);
            AssertClose(reference[i], tiled[i], 2e-4, 2e-3, $"gradient/buffer {i}");
        }
    }

    [Fact]
    public void GradientsMatchFiniteDifferences()
    {
        var u = new Unit(7, 4, 3, 3, 5, [4], 2);
        TestUtil.AssertGrad(() => u.Tiled(), [.. u.All()], 1e-2f, 5e-3f, 3e-2f);
    }

    [Fact]
    public void GivesTheSameBitsOnOneAndTwoThreads()
    {
        var gs = Random(new Random(5), 80 * 50 + 9);
        float[][] Run(int threads)
        {
            float[][] r = [];
            WithThreads(threads, () =>
            {
                var u = new Unit(11, 80, 50, 32, 64, [32], 9);
                r = u.Step(true, gs.AsSpan(0, u.Keys.Rows).ToArray());
            });
            return r;
        }
        var one = Run(1); var two = Run(2);
        for (int i = 0; i < one.Length; i++) AssertBitIdentical(one[i], two[i], $"output {i}");
    }

    [Fact]
    public void TilesEndOnSampleBoundariesAndPaddingComesLast()
    {
        int[] offsets = [0, 200, 200, 300, 900, 950];
        var tiles = DiceUnit.TileBounds(offsets, 1000, out int real);
        Assert.Equal([0, 300, 900, 950, 1000], tiles);
        Assert.Equal(3, real);
        Assert.Equal([0, 1], DiceUnit.TileBounds([0, 0], 1, out real));   // no history at all: one padding row
        Assert.Equal(0, real);
    }

    [Fact]
    public void RejectsWhatItDoesNotCompute()
    {
        var rng = new Rng(1);
        Assert.False(DiceUnit.Supports(new PRelu(4), new Mlp(4, [3], rng, Activation.Dice, outputDim: 1)));
        Assert.False(DiceUnit.Supports(new Dice(4), new Mlp(4, [3], rng, Activation.Relu, outputDim: 1)));
        Assert.False(DiceUnit.Supports(new Dice(4), new Mlp(4, [3], rng, Activation.Dice, outputDim: 2)));
        Assert.True(DiceUnit.Supports(new Dice(4), new Mlp(4, [3], rng, Activation.Dice, outputDim: 1)));
    }
}
