using System.Runtime.InteropServices;
using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Tensors;

/// <summary>
/// The columns of a ReLU layer's output [rows, Total] that hold a nonzero value in some row,
/// ascending: the units the batch switched on. Made by <see cref="Ops.LinearRelu"/>; the indices
/// live in a pooled temporary of the step's scope, so they are valid until the scope ends.
/// </summary>
public sealed class LiveColumns
{
    public int Total { get; }
    public int Count { get; private set; }
    readonly float[] storage;

    /// <summary>Room for <paramref name="total"/> indices; <see cref="Find"/> fills it.</summary>
    internal LiveColumns(int total)
    {
        Total = total;
        storage = Tensor.Temp([total]).Data;
    }

    /// <summary>y = max(z + bias, 0) over [rows, Total], recording y's live columns (<see cref="ZeroColumns.BiasRelu"/>).</summary>
    internal void Find(ReadOnlySpan<float> z, ReadOnlySpan<float> bias, int rows, Span<float> y) =>
        Count = ZeroColumns.BiasRelu(z, bias, rows, Total, y, MemoryMarshal.Cast<float, int>(storage.AsSpan(0, Total)));

    public ReadOnlySpan<int> Indices => MemoryMarshal.Cast<float, int>(storage.AsSpan(0, Count));
    /// <summary>Whether enough columns are zero for the products to leave them out.</summary>
    public bool WorthSkipping => ZeroColumns.WorthSkipping(Count, Total);
}

/// <summary>A ReLU layer as one op, whose products leave out the columns that are zero.</summary>
public static partial class Ops
{
    /// <summary>
    /// relu(x·W + b) for x [..., in], W [in, out], b [out] or null, as one recorded op: the values
    /// of MatMul followed by the fused bias+ReLU, with less work in the products (design note 50).
    /// A ReLU layer's units that no row of the batch switches on give all-zero output columns,
    /// and all-zero columns of the pre-activation's gradient; every term those columns contribute
    /// to a product is a product with zero. So:
    /// - backward, ∂x = ∂z·Wᵀ leaves out this layer's zero output columns, and ∂W = xᵀ·∂z is
    ///   computed on the live rows and columns only (the rest of it is zero);
    /// - forward, when <paramref name="inputLive"/> gives x's live columns (x is the unchanged
    ///   result of a LinearRelu below, or that result after dropout), x·W leaves out the others.
    /// <paramref name="outputLive"/> gives the next layer the same for y. The products leave
    /// columns out only when at least 1/<see cref="ZeroColumns.MinSkippedFraction"/> of them are
    /// zero. A term left out is ±0 (with a finite gradient), so each sum keeps its other terms in
    /// their order: the values are the plain products' wherever the GEMM accumulates in k order.
    /// </summary>
    public static Tensor LinearRelu(Tensor x, Tensor weight, Tensor? bias, LiveColumns? inputLive, out LiveColumns outputLive) =>
        LinearRelu(x, weight, bias, inputLive, out outputLive, skipZeroColumns: true);

    /// <summary>relu(x·W + b) as <see cref="LinearRelu(Tensor, Tensor, Tensor?, LiveColumns?, out LiveColumns)"/>, without knowledge of x's columns.</summary>
    public static Tensor LinearRelu(Tensor x, Tensor weight, Tensor? bias) => LinearRelu(x, weight, bias, null, out _);

    internal static Tensor LinearRelu(Tensor x, Tensor weight, Tensor? bias, LiveColumns? inputLive, out LiveColumns outputLive, bool skipZeroColumns)
    {
        if (weight.Rank != 2) throw new ArgumentException($"LinearRelu: weight must be [in, out], got {Tensor.ShapeString(weight.Shape)}");
        int inDim = weight.Shape[0], outDim = weight.Shape[1];
        if (x.Rank == 0 || x.Shape[^1] != inDim)
            throw new ArgumentException($"LinearRelu({inDim}→{outDim}): input shape {Tensor.ShapeString(x.Shape)} does not end in {inDim}");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outDim))
            throw new ArgumentException($"LinearRelu({inDim}→{outDim}): bias shape {Tensor.ShapeString(bias.Shape)} is not [{outDim}]");
        if (inputLive is not null && inputLive.Total != inDim)
            throw new ArgumentException($"LinearRelu({inDim}→{outDim}): the input's live columns are of {inputLive.Total} columns, not {inDim}");
        int rows = inDim == 0 ? 0 : x.Size / inDim;
        var shape = (int[])x.Shape.Clone();
        shape[^1] = outDim;

        var liveIn = skipZeroColumns && inputLive is { WorthSkipping: true } && rows > 0 ? inputLive : null;
        var z = Tensor.Temp([rows, outDim]);
        Tensor? xLive = null;
        if (liveIn is null)
            Gemm.Sgemm(false, false, rows, outDim, inDim, 1f, x.Span, inDim, weight.Span, outDim, 0f, z.Span, outDim);
        else if (liveIn.Count == 0)
            z.Span.Clear();
        else
        {
            // The compacted operands use the front of buffers of the full sizes: the pool keys by size.
            xLive = Tensor.Temp([rows, inDim]);
            ZeroColumns.GatherColumns(x.Span, rows, inDim, liveIn.Indices, liveIn.Count, xLive.Span[..(rows * liveIn.Count)]);
            var wLive = Tensor.Temp([inDim, outDim]);
            ZeroColumns.GatherRows(weight.Span, inDim, outDim, liveIn.Indices, liveIn.Count, wLive.Span[..(liveIn.Count * outDim)]);
            int k = liveIn.Count;
            Gemm.Sgemm(false, false, rows, outDim, k, 1f, xLive.Span, k, wLive.Span, outDim, 0f, z.Span, outDim);
        }
        var y = Tensor.Temp(shape);
        var live = new LiveColumns(outDim);
        live.Find(z.Span, bias is null ? ReadOnlySpan<float>.Empty : bias.Span, rows, y.Span);
        outputLive = live;

        if (Tape.IsRecording && (x.RequiresGrad || weight.RequiresGrad || bias is { RequiresGrad: true }))
            Tape.Record(y, () =>
            {
                if (y.Grad is null) return;
                var biasValues = bias is null ? ReadOnlySpan<float>.Empty : bias.Span;
                var db = bias is { RequiresGrad: true } ? bias.GradBuffer().Span : Span<float>.Empty;
                var liveOut = skipZeroColumns && live.WorthSkipping && rows > 0 && (x.RequiresGrad || weight.RequiresGrad) ? live : null;
                // ∂z: whole, or only its live columns, packed into the front of a buffer of ∂z's size (the pool keys by size).
                var dz = Tensor.Temp([rows, outDim]);
                if (liveOut is null)
                    BiasActivation.Backward(z.Span, biasValues, ReadOnlySpan<float>.Empty, y.Grad.Span, rows, outDim, Activation.Relu, dz.Span, db, overwriteDx: true);
                else
                    ZeroColumns.ReluBackward(z.Span, biasValues, y.Grad.Span, rows, outDim, liveOut.Indices, liveOut.Count, dz.Span[..(rows * liveOut.Count)], db);
                if (weight.RequiresGrad) LinearReluWeightGrad(x, weight, rows, inDim, outDim, liveIn, xLive, liveOut, dz);
                if (x.RequiresGrad) LinearReluInputGrad(x, weight, rows, inDim, outDim, liveOut, dz);
            });
        return y;
    }

    /// <summary>∂W += xᵀ·∂z over the live rows (x's live columns) and live columns (∂z's) only; ∂z is packed to its live columns when <paramref name="liveOut"/> is given.</summary>
    static void LinearReluWeightGrad(Tensor x, Tensor weight, int rows, int inDim, int outDim,
        LiveColumns? liveIn, Tensor? xLive, LiveColumns? liveOut, Tensor dz)
    {
        var gw = weight.GradBufferForWrite(out bool fresh).Span;
        if (liveIn is null && liveOut is null)
        {
            if (fresh && rows == 0) gw.Clear();
            Gemm.Sgemm(true, false, inDim, outDim, rows, 1f, x.Span, inDim, dz.Span, outDim, fresh ? 0f : 1f, gw, outDim);
            return;
        }
        if (fresh) gw.Clear();
        int m = liveIn?.Count ?? inDim, n = liveOut?.Count ?? outDim;
        if (m == 0 || n == 0) return;
        var block = Tensor.Temp([inDim, outDim]);
        Gemm.Sgemm(true, false, m, n, rows, 1f, (xLive ?? x).Span, m, dz.Span, n, 0f, block.Span, n);
        ZeroColumns.ScatterAdd(block.Span[..(m * n)], liveIn is null ? [] : liveIn.Indices, m, liveOut is null ? [] : liveOut.Indices, n, gw, inDim, outDim);
    }

    /// <summary>∂x += ∂z·Wᵀ over ∂z's live columns only (∂z packed to them when <paramref name="liveOut"/> is given).</summary>
    static void LinearReluInputGrad(Tensor x, Tensor weight, int rows, int inDim, int outDim, LiveColumns? liveOut, Tensor dz)
    {
        var gx = x.GradBufferForWrite(out bool fresh).Span;
        if (liveOut is null)
        {
            if (fresh && outDim == 0) gx.Clear();
            Gemm.Sgemm(false, true, rows, inDim, outDim, 1f, dz.Span, outDim, weight.Span, outDim, fresh ? 0f : 1f, gx, inDim);
            return;
        }
        if (liveOut.Count == 0)
        {
            if (fresh) gx.Clear();
            return;
        }
        int k = liveOut.Count;
        var wLive = Tensor.Temp([inDim, outDim]);
        ZeroColumns.GatherColumns(weight.Span, inDim, outDim, liveOut.Indices, k, wLive.Span[..(inDim * k)]);
        Gemm.Sgemm(false, true, rows, inDim, k, 1f, dz.Span, k, wLive.Span, k, fresh ? 0f : 1f, gx, inDim);
    }
}
