namespace SharpCtr.Tensors.Nn;

/// <summary>
/// The recurrence shared by <see cref="Gru"/> and <see cref="Augru"/>: the input projection for
/// all steps in one GEMM, then per step one [B, H]·[H, 3H] GEMM and the gate arithmetic.
/// </summary>
static class GruLoop
{
    public static (Tensor Outputs, Tensor Last) Run(Tensor x, Tensor? attention, int[]? lengths, int inputSize, int hidden,
        Tensor wIh, Tensor wHh, Tensor bIh, Tensor bHh, bool attentional)
    {
        if (x.Rank != 3 || x.Shape[2] != inputSize)
            throw new ArgumentException($"{(attentional ? "AUGRU" : "GRU")}({inputSize}→{hidden}): input must be [B, L, {inputSize}], got {Tensor.ShapeString(x.Shape)}");
        int b = x.Shape[0], len = x.Shape[1], h3 = 3 * hidden;
        if (lengths is not null)
        {
            if (lengths.Length != b) throw new ArgumentException($"{lengths.Length} lengths for a batch of {b}");
            foreach (var l in lengths)
                if (l < 0 || l > len) throw new ArgumentException($"sequence length {l} outside [0, {len}]");
        }
        var xProj = Ops.Add(Ops.MatMul(x, wIh), bIh);          // [B, L, 3H]
        var h = Tensor.Temp([b, hidden], zero: true);
        var outs = new Tensor[len];
        for (int t = 0; t < len; t++)
        {
            var gi = Ops.Reshape(Ops.Slice(xProj, 1, t, 1), b, h3);
            var gh = Ops.Add(Ops.MatMul(h, wHh), bHh);
            var rz = Ops.Sigmoid(Ops.Add(Ops.Slice(gi, 1, 0, 2 * hidden), Ops.Slice(gh, 1, 0, 2 * hidden)));
            var r = Ops.Slice(rz, 1, 0, hidden);
            var z = Ops.Slice(rz, 1, hidden, hidden);
            var n = Ops.Tanh(Ops.Add(Ops.Slice(gi, 1, 2 * hidden, hidden), Ops.Mul(r, Ops.Slice(gh, 1, 2 * hidden, hidden))));
            Tensor next;
            if (attentional)
            {
                var u = Ops.Mul(Ops.Slice(attention!, 1, t, 1), z);  // [B, 1] ⊙ [B, H]
                next = Ops.Add(h, Ops.Mul(u, Ops.Sub(n, h)));
            }
            else next = Ops.Add(n, Ops.Mul(z, Ops.Sub(h, n)));
            var keep = StepMask(lengths, t, b, hidden);
            if (keep is null) { outs[t] = next; h = next; }
            else
            {
                outs[t] = Ops.Mul(keep, next);
                h = Ops.Add(h, Ops.Mul(keep, Ops.Sub(next, h)));
            }
            outs[t] = Ops.Reshape(outs[t], b, 1, hidden);
        }
        var outputs = len == 0 ? Tensor.Temp([b, 0, hidden]) : Ops.Concat(outs, 1);
        return (outputs, h);
    }

    /// <summary>[B, H] of 1 for sequences still running at step t, 0 past their end; null when all run.</summary>
    static Tensor? StepMask(int[]? lengths, int t, int b, int hidden)
    {
        if (lengths is null) return null;
        bool all = true;
        foreach (var l in lengths) if (l <= t) { all = false; break; }
        if (all) return null;
        var m = Tensor.Temp([b, hidden]);
        for (int i = 0; i < b; i++) m.Data.AsSpan(i * hidden, hidden).Fill(lengths[i] > t ? 1f : 0f);
        return m;
    }
}
