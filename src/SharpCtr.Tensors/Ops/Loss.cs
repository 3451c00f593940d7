namespace SharpCtr.Tensors;

/// <summary>Losses (scalar means) and selections without gradients (top-k, argmax).</summary>
public static partial class Ops
{
    /// <summary>Mean binary cross-entropy of sigmoid(logits) against labels in [0, 1], computed stably from logits.</summary>
    public static Tensor BceWithLogits(Tensor logits, Tensor labels)
    {
        if (logits.Size != labels.Size) throw new ArgumentException($"BCE: {logits.Size} logits vs {labels.Size} labels");
        int n = logits.Size;
        var x = logits.Data; var t = labels.Data;
        double s = 0;
        for (int i = 0; i < n; i++)
        {
            if (float.IsNaN(x[i])) throw new ArithmeticException($"BCE: logit {i} is NaN");
            s += Math.Max(x[i], 0) - x[i] * t[i] + Math.Log(1 + Math.Exp(-Math.Abs(x[i])));
        }
        var y = Tensor.Temp([]);
        y.Data[0] = (float)(s / Math.Max(1, n));
        if (Tape.Needs(logits, labels))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                float g = y.Grad.Data[0] / Math.Max(1, n);
                if (logits.RequiresGrad) { var gx = logits.GradBuffer().Data; for (int i = 0; i < n; i++) gx[i] += g * (Scalar.Sigmoid(x[i]) - t[i]); }
                if (labels.RequiresGrad) { var gt = labels.GradBuffer().Data; for (int i = 0; i < n; i++) gt[i] -= g * x[i]; }
            });
        return y;
    }

    /// <summary>Mean cross-entropy of logits [N, C] against class ids; targets equal to <paramref name="ignoreIndex"/> are skipped.</summary>
    public static Tensor CrossEntropy(Tensor logits, int[] targets, int ignoreIndex = -100)
    {
        int n = logits.Rows, c = logits.Cols;
        if (targets.Length != n) throw new ArgumentException($"CrossEntropy: {targets.Length} targets for {n} rows");
        var x = logits.Data;
        var prob = Tensor.Temp([n * c]).Data;
        double s = 0; int count = 0;
        for (int r = 0; r < n; r++)
        {
            int o = r * c;
            float max = float.NegativeInfinity;
            for (int j = 0; j < c; j++) max = MathF.Max(max, x[o + j]);
            double sum = 0;
            for (int j = 0; j < c; j++) { float e = MathF.Exp(x[o + j] - max); prob[o + j] = e; sum += e; }
            for (int j = 0; j < c; j++) prob[o + j] = (float)(prob[o + j] / sum);
            if (targets[r] == ignoreIndex) continue;
            if ((uint)targets[r] >= (uint)c) throw new ArgumentOutOfRangeException(nameof(targets), $"target {targets[r]} of row {r} is not a class in [0, {c})");
            s += max + Math.Log(sum) - x[o + targets[r]];
            count++;
        }
        var y = Tensor.Temp([]);
        y.Data[0] = count == 0 ? 0f : (float)(s / count);
        if (Tape.Needs(logits) && count > 0)
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                float g = y.Grad.Data[0] / count;
                var gx = logits.GradBuffer().Data;
                for (int r = 0; r < n; r++)
                {
                    if (targets[r] == ignoreIndex) continue;
                    int o = r * c;
                    for (int j = 0; j < c; j++) gx[o + j] += g * (prob[o + j] - (j == targets[r] ? 1f : 0f));
                }
            });
        return y;
    }

    /// <summary>Mean squared error.</summary>
    public static Tensor Mse(Tensor a, Tensor b)
    {
        var d = Sub(a, b);
        return Mean(Mul(d, d));
    }

    /// <summary>The k largest values of each row (last axis) and their positions, largest first; ties keep the earlier position.</summary>
    public static (float[] Values, int[] Indices) TopK(Tensor x, int k)
    {
        int rows = x.Rows, c = x.Cols;
        if (k < 1 || k > c) throw new ArgumentOutOfRangeException(nameof(k), $"top-k with k = {k} over {c} columns");
        var values = new float[rows * k];
        var idx = new int[rows * k];
        for (int r = 0; r < rows; r++)
        {
            int o = r * c, ko = r * k, filled = 0;
            for (int j = 0; j < c; j++)
            {
                float v = x.Data[o + j];
                if (filled == k && !(v > values[ko + k - 1])) continue;
                int p = filled < k ? filled++ : k - 1;
                while (p > 0 && v > values[ko + p - 1]) { values[ko + p] = values[ko + p - 1]; idx[ko + p] = idx[ko + p - 1]; p--; }
                values[ko + p] = v; idx[ko + p] = j;
            }
        }
        return (values, idx);
    }

    /// <summary>Position of the maximum of each row (last axis); the first one on ties.</summary>
    public static int[] Argmax(Tensor x) => TopK(x, 1).Indices;
}
