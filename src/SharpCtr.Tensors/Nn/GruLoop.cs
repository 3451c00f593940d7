using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors.Nn;

/// <summary>
/// The recurrence shared by <see cref="Gru"/> and <see cref="Augru"/>, fused: the input projection
/// for all steps is one recorded GEMM (so W_ih and b_ih get their gradients from the tape), then
/// the whole recurrence is a single tape op — per step one [B, H]·[H, 3H] GEMM plus the gate
/// arithmetic — with hand-written back-propagation through time (two GEMMs per step). This keeps
/// a 50-step sequence at ~50 GEMM calls each way instead of ~1000 recorded small ops.
/// </summary>
static class GruLoop
{
    public static (Tensor Outputs, Tensor Last) Run(Tensor x, Tensor? attention, int[]? lengths, int inputSize, int hidden,
        Tensor wIh, Tensor wHh, Tensor bIh, Tensor bHh, bool attentional)
    {
        if (x.Rank != 3 || x.Shape[2] != inputSize)
            throw new ArgumentException($"{(attentional ? "AUGRU" : "GRU")}({inputSize}→{hidden}): input must be [B, L, {inputSize}], got {Tensor.ShapeString(x.Shape)}");
        int b = x.Shape[0], len = x.Shape[1];
        var lens = new int[b];
        if (lengths is null) Array.Fill(lens, len);
        else
        {
            if (lengths.Length != b) throw new ArgumentException($"{lengths.Length} lengths for a batch of {b}");
            for (int i = 0; i < b; i++)
            {
                if (lengths[i] < 0 || lengths[i] > len) throw new ArgumentException($"sequence length {lengths[i]} at row {i} outside [0, {len}]");
                lens[i] = lengths[i];
            }
        }
        var xProj = Ops.Add(Ops.MatMul(x, wIh), bIh);          // [B, L, 3H]
        return Recur(xProj, attentional ? attention : null, lens, hidden, wHh, bHh);
    }

    /// <summary>
    /// Gates in the order r, z, n (z weighs the old state as in PyTorch) for the GRU; for the AUGRU
    /// the second gate u weighs the candidate and is scaled by the attention score.
    /// </summary>
    static (Tensor Outputs, Tensor Last) Recur(Tensor xProj, Tensor? att, int[] lens, int hd, Tensor wHh, Tensor bHh)
    {
        int b = xProj.Shape[0], len = xProj.Shape[1], h3 = 3 * hd;
        var y = Tensor.Temp([b, len, hd], zero: true);
        var last = Tensor.Temp([b, hd], zero: true);
        var gates = Tensor.Temp([b, len, 4 * hd]);   // r, z (or u), n, and h·W_hn + b_hn, kept for the backward pass
        var gh = Tensor.Temp([b, h3]);
        var xp = xProj.Data; var yd = y.Data; var hd_ = last.Data; var gd = gates.Data; var ghd = gh.Data;
        var bh = bHh.Data; var ad = att?.Data;
        for (int t = 0; t < len; t++)
        {
            Gemm.Sgemm(false, false, b, h3, hd, 1f, hd_, hd, wHh.Data, h3, 0f, ghd, h3);
            for (int i = 0; i < b; i++)
            {
                if (t >= lens[i]) continue;
                int xo = (i * len + t) * h3, go = (i * len + t) * 4 * hd, yo = (i * len + t) * hd, ho = i * hd, gho = i * h3;
                float a = ad is null ? 1f : ad[i * len + t];
                for (int j = 0; j < hd; j++)
                {
                    float r = Scalar.Sigmoid(xp[xo + j] + ghd[gho + j] + bh[j]);
                    float z = Scalar.Sigmoid(xp[xo + hd + j] + ghd[gho + hd + j] + bh[hd + j]);
                    float ghn = ghd[gho + 2 * hd + j] + bh[2 * hd + j];
                    float n = MathF.Tanh(xp[xo + 2 * hd + j] + r * ghn);
                    float h = hd_[ho + j];
                    float next = ad is null ? n + z * (h - n) : h + a * z * (n - h);
                    gd[go + j] = r; gd[go + hd + j] = z; gd[go + 2 * hd + j] = n; gd[go + 3 * hd + j] = ghn;
                    yd[yo + j] = next;
                    hd_[ho + j] = next;
                }
            }
        }
        bool needs = Tape.IsRecording && (xProj.RequiresGrad || wHh.RequiresGrad || bHh.RequiresGrad || att is { RequiresGrad: true });
        if (!needs) return (y, last);
        last.RequiresGrad = true;
        Tape.Record(y, () =>
        {
            if (y.Grad is null && last.Grad is null) return;
            var gy = y.Grad?.Data;
            var carry = Tensor.Temp([b, hd], zero: true).Data;       // dL/dh flowing back into step t
            if (last.Grad is not null) last.Grad.Span.CopyTo(carry);
            var dgh = Tensor.Temp([b, h3]).Data;
            var back = Tensor.Temp([b, hd]).Data;
            var direct = Tensor.Temp([b, hd], zero: true).Data;
            var gx = xProj.RequiresGrad ? xProj.GradBuffer().Data : null;
            var gw = wHh.RequiresGrad ? wHh.GradBuffer().Data : null;
            var gb = bHh.RequiresGrad ? bHh.GradBuffer().Data : null;
            var ga = att is { RequiresGrad: true } ? att.GradBuffer().Data : null;
            for (int t = len - 1; t >= 0; t--)
            {
                Array.Clear(dgh);
                bool any = false;
                for (int i = 0; i < b; i++)
                {
                    if (t >= lens[i]) continue;
                    any = true;
                    int go = (i * len + t) * 4 * hd, yo = (i * len + t) * hd, po = yo - hd, ho = i * hd, gho = i * h3, xo = (i * len + t) * h3;
                    float a = ad is null ? 1f : ad[i * len + t];
                    float da = 0;
                    for (int j = 0; j < hd; j++)
                    {
                        float dh = carry[ho + j] + (gy is null ? 0f : gy[yo + j]);
                        float r = gd[go + j], z = gd[go + hd + j], n = gd[go + 2 * hd + j], ghn = gd[go + 3 * hd + j];
                        float hPrev = t == 0 ? 0f : yd[po + j];
                        float dn, dz;
                        if (ad is null)
                        {
                            dn = dh * (1 - z);
                            dz = dh * (hPrev - n);
                            direct[ho + j] = dh * z;
                        }
                        else
                        {
                            dn = dh * a * z;
                            float dua = dh * (n - hPrev);
                            dz = dua * a;
                            da += dua * z;
                            direct[ho + j] = dh * (1 - a * z);
                        }
                        float dpn = dn * (1 - n * n);
                        float dpr = dpn * ghn * r * (1 - r);
                        float dpz = dz * z * (1 - z);
                        dgh[gho + j] = dpr;
                        dgh[gho + hd + j] = dpz;
                        dgh[gho + 2 * hd + j] = dpn * r;
                        if (gx is not null) { gx[xo + j] += dpr; gx[xo + hd + j] += dpz; gx[xo + 2 * hd + j] += dpn; }
                    }
                    if (ga is not null) ga[i * len + t] += da;
                }
                if (!any) continue;   // every sequence has ended by t: the carried gradient passes unchanged
                if (gw is not null && t > 0)
                    Gemm.Sgemm(true, false, hd, h3, b, 1f, yd.AsSpan((t - 1) * hd), len * hd, dgh, h3, 1f, gw, h3);
                if (gb is not null)
                    for (int i = 0; i < b; i++)
                        for (int j = 0; j < h3; j++) gb[j] += dgh[i * h3 + j];
                Gemm.Sgemm(false, true, b, hd, h3, 1f, dgh, h3, wHh.Data, h3, 0f, back, hd);
                for (int i = 0; i < b; i++)
                {
                    if (t >= lens[i]) continue;
                    for (int j = 0, o = i * hd; j < hd; j++) carry[o + j] = direct[o + j] + back[o + j];
                }
            }
        });
        return (y, last);
    }
}
