using SharpCtr.Tensors.Kernels;
using static SharpCtr.Tensors.Tests.Kernels.KernelTestUtil;

namespace SharpCtr.Tensors.Tests.Kernels;

[Collection("KernelSettings")]
public class NormalizationTests
{
    /// <summary>Double-precision forward; backward by finite differences of a scalar loss Σ y·w.</summary>
    private static double[] RefForward(double[] x, float[]? gamma, float[]? beta, int rows, int cols, double eps, bool rms)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, var = 0;
            if (!rms) { for (int c = 0; c < cols; c++) mean += x[r * cols + c]; mean /= cols; }
            for (int c = 0; c < cols; c++) { double d = x[r * cols + c] - mean; var += d * d; }
            var /= cols;
            double rs = 1 / Math.Sqrt(var + eps);
            for (int c = 0; c < cols; c++)
                y[r * cols + c] = (x[r * cols + c] - mean) * rs * (gamma?[c] ?? 1) + (beta?[c] ?? 0);
        }
        return y;
    }

    [Theory]
    [InlineData(1, 1, false)]
    [InlineData(3, 17, false)]
    [InlineData(70, 33, false)]
    [InlineData(5, 64, true)]
    [InlineData(40, 17, true)]
    [InlineData(9, 127, true)]
    public void ForwardAndBackwardMatchReference(int rows, int cols, bool rms)
    {
        var rng = new Random(rows * 7 + cols + (rms ? 1000 : 0));
        var x = Random(rng, rows * cols, 2f);
        for (int i = 0; i < x.Length; i++) x[i] += 3f; // a non-zero mean
        var gamma = Random(rng, cols);
        var beta = Random(rng, cols);
        var w = Random(rng, rows * cols); // dy
        const float eps = 1e-5f;
        var y = new float[x.Length];
        var mean = new float[rows];
        var rstd = new float[rows];
        if (rms) Normalization.RmsNormForward(x, gamma, rows, cols, eps, y, rstd);
        else Normalization.LayerNormForward(x, gamma, beta, rows, cols, eps, y, mean, rstd);

        var xd = Array.ConvertAll(x, v => (double)v);
        AssertClose(RefForward(xd, gamma, rms ? null : beta, rows, cols, eps, rms), y, 2e-5, 2e-5, "forward");

        var dx = new float[x.Length];
        var dgamma = new float[cols];
        var dbeta = new float[cols];
        if (rms) Normalization.RmsNormBackward(x, gamma, rstd, w, rows, cols, dx, dgamma);
        else Normalization.LayerNormBackward(x, gamma, mean, rstd, w, rows, cols, dx, dgamma, dbeta);

        double Loss(double[] xx, float[] g, float[] b)
        {
            var yy = RefForward(xx, g, rms ? null : b, rows, cols, eps, rms);
            double s = 0;
            for (int i = 0; i < yy.Length; i++) s += yy[i] * w[i];
            return s;
        }
        const double h = 1e-4;
        var dxRef = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double keep = xd[i];
            xd[i] = keep + h; double lp = Loss(xd, gamma, beta);
            xd[i] = keep - h; double lm = Loss(xd, gamma, beta);
            xd[i] = keep;
            dxRef[i] = (lp - lm) / (2 * h);
        }
        AssertClose(dxRef, dx, 2e-4, 1e-3, "dx");
        var dgRef = new double[cols];
        var dbRef = new double[cols];
        var xhat = RefForward(xd, null, null, rows, cols, eps, rms);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) { dgRef[c] += w[r * cols + c] * xhat[r * cols + c]; dbRef[c] += w[r * cols + c]; }
        AssertClose(dgRef, dgamma, 1e-4, 1e-4, "dgamma");
        if (!rms) AssertClose(dbRef, dbeta, 1e-4, 1e-4, "dbeta");
    }

    [Fact]
    public void OneAndTwoThreadsAreBitIdentical()
    {
        var rng = new Random(3);
        int rows = 333, cols = 40;
        var x = Random(rng, rows * cols);
        var gamma = Random(rng, cols);
        var dy = Random(rng, rows * cols);
        float[] Run(int t)
        {
            var y = new float[x.Length]; var mean = new float[rows]; var rstd = new float[rows];
            var dx = new float[x.Length]; var dg = new float[cols]; var db = new float[cols];
            WithThreads(t, () =>
            {
                Normalization.LayerNormForward(x, gamma, default, rows, cols, 1e-5f, y, mean, rstd);
                Normalization.LayerNormBackward(x, gamma, mean, rstd, dy, rows, cols, dx, dg, db);
            });
            return [.. y, .. dx, .. dg, .. db];
        }
        AssertBitIdentical(Run(1), Run(2), "layer norm");
    }
}
