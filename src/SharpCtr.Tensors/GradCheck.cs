namespace SharpCtr.Tensors;

/// <summary>
/// Compares the tape's gradients with central finite differences. The checked loss is
/// Σ f(inputs) ⊙ R for a fixed random R, so every output element's gradient is exercised.
/// Float32 forward passes limit the precision of the difference quotient; the default step and
/// tolerances suit smooth functions of inputs of order one.
/// </summary>
public static class GradCheck
{
    public sealed record Result(bool Ok, float MaxAbsError, float MaxRelError, string Report);

    public static Result Check(Func<Tensor> f, Tensor[] inputs, float eps = 1e-2f, float atol = 2e-3f, float rtol = 2e-2f, ulong seed = 7)
    {
        Tensor? r = null;
        float Loss()
        {
            using var tape = Tape.Inference();
            var y = f();
            if (r is null)
            {
                var rng = new Rng(seed);
                r = Tensor.Zeros((int[])y.Shape.Clone());
                for (int i = 0; i < r.Size; i++) r.Data[i] = (float)rng.NextNormal();
            }
            double s = 0;
            for (int i = 0; i < y.Size; i++) s += (double)y.Data[i] * r.Data[i];
            return (float)s;
        }
        Loss(); // fixes R's shape

        foreach (var x in inputs) { x.RequiresGrad = true; x.Grad = null; x.SparseGrad?.Clear(); }
        using (var tape = Tape.Train())
        {
            var y = f();
            var loss = Ops.Sum(Ops.Mul(y, r!));
            tape.Backward(loss);
        }

        float maxAbs = 0, maxRel = 0;
        var report = new System.Text.StringBuilder();
        bool ok = true;
        for (int k = 0; k < inputs.Length; k++)
        {
            var x = inputs[k];
            float[] analytic = x.SparseGrad is { } sg ? sg.ToDense(x.Shape[0]) : x.Grad?.ToArray() ?? new float[x.Size];
            for (int i = 0; i < x.Size; i++)
            {
                float orig = x.Data[i];
                x.Data[i] = orig + eps; float lp = Loss();
                x.Data[i] = orig - eps; float lm = Loss();
                x.Data[i] = orig;
                float numeric = (lp - lm) / (2 * eps);
                float err = MathF.Abs(numeric - analytic[i]);
                float rel = err / Math.Max(1e-6f, MathF.Abs(numeric) + MathF.Abs(analytic[i]));
                maxAbs = MathF.Max(maxAbs, err);
                if (err > atol) maxRel = MathF.Max(maxRel, rel);
                if (err > atol + rtol * MathF.Abs(numeric))
                {
                    ok = false;
                    if (report.Length < 2000) report.AppendLine($"input {k} ({x.Name ?? Tensor.ShapeString(x.Shape)}) element {i}: analytic {analytic[i]:G6}, numeric {numeric:G6}");
                }
            }
        }
        return new Result(ok, maxAbs, maxRel, report.ToString());
    }
}
