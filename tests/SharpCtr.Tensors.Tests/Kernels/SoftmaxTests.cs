using SharpCtr.Tensors.Kernels;
using static SharpCtr.Tensors.Tests.Kernels.KernelTestUtil;

namespace SharpCtr.Tensors.Tests.Kernels;

[Collection("KernelSettings")]
public class SoftmaxTests
{
    private static (double[] p, double[] logp) Reference(float[] x, int rows, int cols, bool[]? mask, int perMask)
    {
        var p = new double[x.Length];
        var lp = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            bool Keep(int c) => mask == null || mask[r / perMask * cols + c];
            double max = double.NegativeInfinity;
            for (int c = 0; c < cols; c++) if (Keep(c)) max = Math.Max(max, x[r * cols + c]);
            if (double.IsNegativeInfinity(max)) continue; // fully masked: zeros
            double sum = 0;
            for (int c = 0; c < cols; c++) if (Keep(c)) sum += Math.Exp(x[r * cols + c] - max);
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                p[i] = Keep(c) ? Math.Exp(x[i] - max) / sum : 0;
                lp[i] = Keep(c) ? x[i] - max - Math.Log(sum) : double.NegativeInfinity;
            }
        }
        return (p, lp);
    }

    [Theory]
    [InlineData(1, 1, false)]
    [InlineData(5, 3, false)]
    [InlineData(7, 17, true)]
    [InlineData(12, 65, true)]
    [InlineData(4, 300, false)]
    [InlineData(6, 127, true)]
    public void ForwardAndBackwardMatchReference(int rows, int cols, bool masked)
    {
        var rng = new Random(rows * 100 + cols);
        var x = Random(rng, rows * cols, 8f);
        int perMask = rows % 2 == 0 ? 2 : 1;
        bool[]? mask = null;
        if (masked)
        {
            mask = new bool[rows / perMask * cols];
            for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextDouble() < 0.7;
            for (int c = 0; c < cols; c++) mask[c] = false; // first mask row fully masked
        }
        var (pRef, lpRef) = Reference(x, rows, cols, mask, perMask);
        var p = new float[x.Length];
        var lp = new float[x.Length];
        Softmax.Forward(x, rows, cols, p, mask, perMask);
        Softmax.LogForward(x, rows, cols, lp, mask, perMask);
        AssertClose(pRef, p, 1e-6, 1e-5, "softmax");
        for (int i = 0; i < lp.Length; i++)
        {
            if (double.IsNegativeInfinity(lpRef[i])) Assert.True(float.IsNegativeInfinity(lp[i]), $"log-softmax masked [{i}]");
            else Assert.True(Math.Abs(lpRef[i] - lp[i]) <= 1e-5 + 1e-5 * Math.Abs(lpRef[i]), $"log-softmax [{i}] {lpRef[i]} vs {lp[i]}");
        }
        foreach (float v in p) Assert.False(float.IsNaN(v));

        var dy = Random(rng, x.Length);
        var dx = new float[x.Length];
        var dxl = new float[x.Length];
        Softmax.Backward(p, dy, rows, cols, dx);
        Softmax.LogBackward(lp, dy, rows, cols, dxl, mask, perMask);
        var dxRef = new double[x.Length];
        var dxlRef = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            bool Keep(int c) => mask == null || mask[r / perMask * cols + c];
            double dot = 0, sum = 0;
            bool any = false;
            for (int c = 0; c < cols; c++) { dot += pRef[r * cols + c] * dy[r * cols + c]; if (Keep(c)) { sum += dy[r * cols + c]; any = true; } }
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                dxRef[i] = pRef[i] * (dy[i] - dot);
                dxlRef[i] = any && Keep(c) ? dy[i] - pRef[i] * sum : 0;
            }
        }
        AssertClose(dxRef, dx, 1e-5, 1e-5, "softmax backward");
        AssertClose(dxlRef, dxl, 1e-5, 1e-5, "log-softmax backward");
    }

    [Fact]
    public void FullyMaskedRowIsZerosAndHugeLogitsStayFinite()
    {
        float[] x = [1e30f, -1e30f, 3f, 1f, 2f, 3f];
        var mask = new[] { true, true, true, false, false, false };
        var p = new float[6];
        Softmax.Forward(x, 2, 3, p, mask);
        Assert.Equal(new float[] { 1f, 0f, 0f, 0f, 0f, 0f }, p);
        var lp = new float[6];
        Softmax.LogForward(x, 2, 3, lp, mask);
        Assert.Equal(new float[] { 0f, 0f, 0f }, lp[3..]);
    }

    [Fact]
    public void OneAndTwoThreadsAreBitIdentical()
    {
        var rng = new Random(2);
        int rows = 400, cols = 50;
        var x = Random(rng, rows * cols, 4f);
        float[] Run(int t)
        {
            var y = new float[x.Length];
            WithThreads(t, () => Softmax.Forward(x, rows, cols, y));
            return y;
        }
        AssertBitIdentical(Run(1), Run(2), "softmax");
    }
}
