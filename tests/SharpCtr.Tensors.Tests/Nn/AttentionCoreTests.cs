using SharpCtr.Tensors.Nn;
using static SharpCtr.Tensors.Tests.Kernels.KernelTestUtil;

namespace SharpCtr.Tensors.Tests.Nn;

/// <summary>
/// The fused attention core against a plain double-precision reference (forward and every
/// gradient), and against itself on one and two threads (bit-identical).
/// </summary>
[Collection("KernelSettings")]
public class AttentionCoreTests
{
    sealed record Case(int B, int Heads, int Dk, int Lq, int Lk, bool Causal, bool Bias, bool BiasPerBatch, bool Padding);

    public static TheoryData<int, int, int, int, int, bool, bool, bool, bool> Cases => new()
    {
        { 3, 2, 5, 7, 7, true, true, false, true },      // T5 encoder/decoder self-attention shape: shared bias
        { 5, 1, 3, 1, 9, false, false, false, true },    // one query (a candidate) against padded keys
        { 4, 3, 4, 6, 11, false, true, true, false },    // per-item bias, no mask
        { 1, 2, 16, 13, 13, true, false, false, false }, // one item (serving)
        { 7, 2, 16, 20, 20, false, true, false, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPlainReference(int b, int heads, int dk, int lq, int lk, bool causal, bool bias, bool perBatch, bool padding)
    {
        var c = new Case(b, heads, dk, lq, lk, causal, bias, perBatch, padding);
        var rng = new Random(b * 100 + lq);
        var (q, k, v, biasT, keep, grad) = Inputs(c, rng);
        float scale = 0.37f;
        var (ctx, dq, dkk, dv, db) = Run(c, q, k, v, biasT, keep, grad, scale);
        var (rCtx, rDq, rDk, rDv, rDb) = Reference(c, q.Data, k.Data, v.Data, biasT?.Data, keep, grad, scale);
        AssertClose(rCtx, ctx, 1e-5, 1e-4, "context");
        AssertClose(rDq, dq, 1e-5, 1e-4, "dQ");
        AssertClose(rDk, dkk, 1e-5, 1e-4, "dK");
        AssertClose(rDv, dv, 1e-5, 1e-4, "dV");
        if (bias) AssertClose(rDb!, db!, 1e-5, 1e-4, "dBias");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OneAndTwoThreadsAgreeBitForBit(int b, int heads, int dk, int lq, int lk, bool causal, bool bias, bool perBatch, bool padding)
    {
        var c = new Case(b, heads, dk, lq, lk, causal, bias, perBatch, padding);
        var (q, k, v, biasT, keep, grad) = Inputs(c, new Random(7 + b));
        (float[], float[], float[], float[], float[]?)? first = null;
        foreach (int threads in new[] { 1, 2 })
            WithThreads(threads, () =>
            {
                var r = Run(c, q, k, v, biasT, keep, grad, 1f, dropout: 0.25f);
                if (first is not { } f) { first = r; return; }
                AssertBitIdentical(f.Item1, r.Item1, "context");
                AssertBitIdentical(f.Item2, r.Item2, "dQ");
                AssertBitIdentical(f.Item3, r.Item3, "dK");
                AssertBitIdentical(f.Item4, r.Item4, "dV");
                if (bias) AssertBitIdentical(f.Item5!, r.Item5!, "dBias");
            });
    }

    static (Tensor Q, Tensor K, Tensor V, Tensor? Bias, float[]? Keep, float[] Grad) Inputs(Case c, Random rng)
    {
        int inner = c.Heads * c.Dk;
        Tensor Param(params int[] shape)
        {
            var t = Tensor.Parameter("x", shape);
            Random(rng, t.Size).CopyTo(t.Data, 0);
            return t;
        }
        var q = Param(c.B, c.Lq, inner);
        var k = Param(c.B, c.Lk, inner);
        var v = Param(c.B, c.Lk, inner);
        var bias = !c.Bias ? null : c.BiasPerBatch ? Param(c.B, c.Heads, c.Lq, c.Lk) : Param(c.Heads, c.Lq, c.Lk);
        float[]? keep = null;
        if (c.Padding)
        {
            keep = new float[c.B * c.Lk];
            // item 0 keeps nothing (its context is zero), the others a growing prefix
            for (int bi = 0; bi < c.B; bi++)
                for (int j = 0; j < c.Lk; j++) keep[bi * c.Lk + j] = j < Math.Min(c.Lk, 2 * bi) ? 1 : 0;
        }
        return (q, k, v, bias, keep, Random(rng, c.B * c.Lq * inner));
    }

    static (float[] Ctx, float[] Dq, float[] Dk, float[] Dv, float[]? Db) Run(Case c, Tensor q, Tensor k, Tensor v, Tensor? bias, float[]? keep,
        float[] grad, float scale, float dropout = 0f)
    {
        foreach (var t in new[] { q, k, v, bias }) t?.ZeroGrad();
        using var tape = Tape.Train();
        var ctx = AttentionCore.Attend(q, k, v, c.Heads, c.Dk, scale, bias, keep, c.Causal, dropout, dropout > 0 ? new Rng(3) : null);
        ctx.Grad = Tensor.FromArray((float[])grad.Clone(), ctx.Shape);
        tape.BackwardFrom(ctx);
        return (ctx.ToArray(), q.Grad!.ToArray(), k.Grad!.ToArray(), v.Grad!.ToArray(), bias?.Grad!.ToArray());
    }

    /// <summary>Attention written out in double, one (item, head, query) at a time.</summary>
    static (double[] Ctx, double[] Dq, double[] Dk, double[] Dv, double[]? Db) Reference(Case c, float[] q, float[] k, float[] v, float[]? bias,
        float[]? keep, float[] grad, float scale)
    {
        int inner = c.Heads * c.Dk;
        var ctx = new double[c.B * c.Lq * inner];
        var dq = new double[q.Length];
        var dk = new double[k.Length];
        var dv = new double[v.Length];
        var db = bias is null ? null : new double[bias.Length];
        var p = new double[c.Lk];
        var dp = new double[c.Lk];
        for (int bi = 0; bi < c.B; bi++)
            for (int h = 0; h < c.Heads; h++)
                for (int i = 0; i < c.Lq; i++)
                {
                    int qo = (bi * c.Lq + i) * inner + h * c.Dk;
                    int biasRow = bias is null ? 0 : ((c.BiasPerBatch ? bi * c.Heads : 0) + h) * c.Lq * c.Lk + i * c.Lk;
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < c.Lk; j++)
                    {
                        bool visible = (!c.Causal || j <= i) && (keep is null || keep[bi * c.Lk + j] != 0);
                        if (!visible) { p[j] = double.NegativeInfinity; continue; }
                        double s = 0;
                        for (int d = 0; d < c.Dk; d++) s += (double)q[qo + d] * k[(bi * c.Lk + j) * inner + h * c.Dk + d];
                        p[j] = scale * s + (bias is null ? 0 : bias[biasRow + j]);
                        max = Math.Max(max, p[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < c.Lk; j++) { p[j] = double.IsNegativeInfinity(max) ? 0 : Math.Exp(p[j] - max); sum += p[j]; }
                    for (int j = 0; j < c.Lk; j++) p[j] = sum > 0 ? p[j] / sum : 0;
                    double dot = 0;
                    for (int j = 0; j < c.Lk; j++)
                    {
                        int vo = (bi * c.Lk + j) * inner + h * c.Dk;
                        dp[j] = 0;
                        for (int d = 0; d < c.Dk; d++)
                        {
                            ctx[qo + d] += p[j] * v[vo + d];
                            dv[vo + d] += p[j] * grad[qo + d];
                            dp[j] += (double)grad[qo + d] * v[vo + d];
                        }
                        dot += p[j] * dp[j];
                    }
                    for (int j = 0; j < c.Lk; j++)
                    {
                        double ds = p[j] * (dp[j] - dot);
                        if (db is not null) db[biasRow + j] += ds;
                        int ko = (bi * c.Lk + j) * inner + h * c.Dk;
                        for (int d = 0; d < c.Dk; d++)
                        {
                            dq[qo + d] += scale * ds * k[ko + d];
                            dk[ko + d] += scale * ds * q[qo + d];
                        }
                    }
                }
        return (ctx, dq, dk, dv, db);
    }
}
