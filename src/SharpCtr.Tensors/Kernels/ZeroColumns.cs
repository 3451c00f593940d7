using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Columns of a ReLU layer's output that are zero in every row, found in the pass that computes
/// the output, and the copies that leave them out of a product (<see cref="Ops.LinearRelu"/>).
/// A ReLU layer's outputs have many: in DeepFM's [256, 256, 256] MLP on MovieLens-1M about 30 % of
/// the second and third layers' units are zero for all 1,024 rows of a batch from the first
/// hundred steps on (design note 50).
/// </summary>
public static unsafe class ZeroColumns
{
    /// <summary>
    /// Columns are left out when at least one in this many is zero. A round guess, not a tuned
    /// value: the copies cost about one pass over the operands, and DeepFM's layers sit far to
    /// either side of it (~5 % and ~30 % zero).
    /// </summary>
    public const int MinSkippedFraction = 8;

    /// <summary>Whether leaving out the columns not in <paramref name="live"/> of <paramref name="cols"/> pays.</summary>
    public static bool WorthSkipping(int live, int cols) => live < cols && (long)(cols - live) * MinSkippedFraction >= cols;

    const int RowsPerBlock = 64;

    /// <summary>
    /// y = max(z + bias, 0) over [rows, cols] (bias may be empty) — the values of
    /// <see cref="BiasActivation.Forward"/> with <see cref="Activation.Relu"/> — and, in the same
    /// pass, the columns of y with a nonzero value in some row (NaN counts as nonzero), written
    /// ascending into <paramref name="live"/>; returns how many.
    /// </summary>
    public static int BiasRelu(ReadOnlySpan<float> z, ReadOnlySpan<float> bias, int rows, int cols, Span<float> y, Span<int> live)
    {
        Check.Matrix("ZeroColumns.BiasRelu", "z", z.Length, rows, cols);
        Check.Matrix("ZeroColumns.BiasRelu", "y", y.Length, rows, cols);
        Check.OptionalVector("ZeroColumns.BiasRelu", "bias", bias.Length, cols);
        if (live.Length < cols) throw new ArgumentException($"ZeroColumns.BiasRelu: live has {live.Length} slots for {cols} columns");
        int blocks = (rows + RowsPerBlock - 1) / RowsPerBlock;
        int width = (cols + 15) & ~15;
        var seen = ArrayPool<uint>.Shared.Rent(Math.Max(1, blocks * width));
        int n = 0;
        fixed (float* pz = z, pb = bias, py = y)
        fixed (uint* ps = seen)
        {
            var job = new BiasReluJob { Z = pz, Bias = bias.IsEmpty ? null : pb, Y = py, Seen = ps, Rows = rows, Cols = cols, Width = width };
            KernelThreads.Run(job, blocks, KernelThreads.ForElements((long)rows * cols));
            for (int c = 0; c < cols; c++)
            {
                uint any = 0;
                for (int b = 0; b < blocks; b++) any |= ps[(long)b * width + c];
                if ((any & 0x7FFF_FFFFu) != 0) live[n++] = c;
            }
        }
        ArrayPool<uint>.Shared.Return(seen);
        return n;
    }

    /// <summary>Per block of rows: y, and the OR of each column's bits (nonzero without the sign iff some value is not ±0).</summary>
    struct BiasReluJob : IRangeJob
    {
        public float* Z, Bias, Y;
        public uint* Seen;
        public int Rows, Cols, Width;

        public readonly void Run(int start, int end)
        {
            for (int b = start; b < end; b++)
            {
                uint* seen = Seen + (long)b * Width;
                new Span<uint>(seen, Width).Clear();
                int rEnd = Math.Min(Rows, (b + 1) * RowsPerBlock);
                for (int r = b * RowsPerBlock; r < rEnd; r++)
                {
                    float* zr = Z + (long)r * Cols, yr = Y + (long)r * Cols;
                    for (int c = 0; c < Cols; c += 16)
                    {
                        int n = Cols - c;
                        var v = VectorMath.LoadPartial(zr + c, n);
                        if (Bias != null) v += VectorMath.LoadPartial(Bias + c, n);
                        v = VectorMath.Relu(v);
                        VectorMath.StorePartial(v, yr + c, n);
                        Vector512.Store(Vector512.Load(seen + c) | v.AsUInt32(), seen + c);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The ReLU layer's backward with its output compacted: dzLive [rows, count] = (dy·relu'(z + bias))[:, live],
    /// and dbias += Σ_rows dy·relu'(z + bias) over every column (dbias may be empty). The values and
    /// the bias gradient's summation order are <see cref="BiasActivation.Backward"/>'s: the full
    /// gradient never goes to memory, only its live columns (packed by VCOMPRESSPS where there is one).
    /// </summary>
    public static void ReluBackward(ReadOnlySpan<float> z, ReadOnlySpan<float> bias, ReadOnlySpan<float> dy, int rows, int cols,
        ReadOnlySpan<int> live, int count, Span<float> dzLive, Span<float> dbias)
    {
        const string op = "ZeroColumns.ReluBackward";
        Check.Matrix(op, "z", z.Length, rows, cols);
        Check.Matrix(op, "dy", dy.Length, rows, cols);
        Check.OptionalVector(op, "bias", bias.Length, cols);
        Check.OptionalVector(op, "dbias", dbias.Length, cols);
        Check.Matrix(op, "dzLive", dzLive.Length, rows, count);
        CheckIndices("ReluBackward", live, count, cols);
        int chunks = RowChunks.Count(rows);
        float[]? partials = dbias.IsEmpty ? null : RowChunks.RentPartials(chunks, cols);
        var masks = ChunkMasks(live, count, cols);
        fixed (float* pz = z, pb = bias, pdy = dy, pdz = dzLive, pp = partials)
        fixed (int* pl = live)
        fixed (uint* pm = masks)
        {
            var job = new ReluBackwardJob
            {
                Z = pz, Bias = bias.IsEmpty ? null : pb, Dy = pdy, DzLive = pdz, Partials = pp, Live = pl, Masks = pm,
                Rows = rows, Cols = cols, Count = count,
            };
            KernelThreads.Run(job, chunks, KernelThreads.ForElements((long)rows * cols));
        }
        ArrayPool<uint>.Shared.Return(masks);
        if (partials != null) RowChunks.AddAndReturn(partials, chunks, cols, dbias);
    }

    struct ReluBackwardJob : IRangeJob
    {
        public float* Z, Bias, Dy, DzLive, Partials;
        public int* Live;
        public uint* Masks;
        public int Rows, Cols, Count;

        public readonly void Run(int chunkStart, int chunkEnd)
        {
            var laneBits = LaneBits;
            for (int ch = chunkStart; ch < chunkEnd; ch++)
            {
                float* partial = Partials == null ? null : Partials + (long)ch * Cols;
                int rEnd = Math.Min(Rows, (ch + 1) * RowChunks.Size);
                for (int r = ch * RowChunks.Size; r < rEnd; r++)
                {
                    long o = (long)r * Cols;
                    float* d = DzLive + (long)r * Count;
                    int pos = 0;
                    for (int c = 0; c < Cols; c += 16)
                    {
                        int n = Cols - c;
                        var v = VectorMath.LoadPartial(Z + o + c, n);
                        if (Bias != null) v += VectorMath.LoadPartial(Bias + c, n);
                        // As ReluOp.Derivative times dy in BiasActivation's backward: the same bits.
                        var g = VectorMath.LoadPartial(Dy + o + c, n) *
                            Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero), VectorMath.One, Vector512<float>.Zero);
                        if (partial != null) VectorMath.StorePartial(VectorMath.LoadPartial(partial + c, n) + g, partial + c, n);
                        uint bits = Masks[c >> 4];
                        if (bits == 0) continue;
                        int kept = System.Numerics.BitOperations.PopCount(bits);
                        if (!Avx512F.IsSupported)
                        {
                            for (int j = pos; j < pos + kept; j++) d[j] = g[Live[j] - c];
                        }
                        else
                        {
                            StorePacked(g, bits, kept, laneBits, d, pos, Count);
                        }
                        pos += kept;
                    }
                }
            }
        }
    }

    static readonly Vector512<uint> LaneBits = Vector512.Create(1u, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768);

    /// <summary>The lanes of a 16-column chunk whose bit is set, as a VCOMPRESSPS mask.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static Vector512<float> KeepMask(uint bits, Vector512<uint> laneBits) => Vector512.Equals(Vector512.Create(bits) & laneBits, laneBits).AsSingle();

    /// <summary>
    /// Packs the lanes of <paramref name="v"/> whose bit is set (<paramref name="kept"/> of them) to
    /// row[pos..]. A full store spills past them into slots later chunks of this row fill; near the
    /// row's end (<paramref name="rowLength"/>) it would spill into the next row, another thread's.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static void StorePacked(Vector512<float> v, uint bits, int kept, Vector512<uint> laneBits, float* row, int pos, int rowLength)
    {
        var packed = Avx512F.Compress(Vector512<float>.Zero, KeepMask(bits, laneBits), v);
        if (pos + 16 <= rowLength) Vector512.Store(packed, row + pos);
        else VectorMath.StorePartial(packed, row + pos, kept);
    }

    /// <summary>Per 16-column chunk, the bits of the listed columns (a pooled array: return it).</summary>
    static uint[] ChunkMasks(ReadOnlySpan<int> live, int count, int cols)
    {
        int chunks = (cols + 15) / 16;
        var masks = ArrayPool<uint>.Shared.Rent(Math.Max(1, chunks));
        Array.Clear(masks, 0, chunks);
        for (int j = 0; j < count; j++) masks[live[j] >> 4] |= 1u << (live[j] & 15);
        return masks;
    }

    /// <summary>dst [rows, count] = src[:, live[0..count)] for src [rows, cols]; rows split over the kernel threads.</summary>
    public static void GatherColumns(ReadOnlySpan<float> src, int rows, int cols, ReadOnlySpan<int> live, int count, Span<float> dst)
    {
        Check.Matrix("ZeroColumns.GatherColumns", "src", src.Length, rows, cols);
        Check.Matrix("ZeroColumns.GatherColumns", "dst", dst.Length, rows, count);
        CheckIndices("GatherColumns", live, count, cols);
        // Per 16-column chunk of a row, the bits of the columns kept: one VCOMPRESSPS packs them.
        var masks = ChunkMasks(live, count, cols);
        fixed (float* ps = src, pd = dst)
        fixed (int* pl = live)
        fixed (uint* pm = masks)
        {
            var job = new GatherJob { Src = ps, Dst = pd, Live = pl, Masks = pm, Cols = cols, Count = count };
            KernelThreads.Run(job, rows, KernelThreads.ForElements((long)rows * count));
        }
        ArrayPool<uint>.Shared.Return(masks);
    }

    struct GatherJob : IRangeJob
    {
        public float* Src, Dst;
        public int* Live;
        public uint* Masks;
        public int Cols, Count;

        public readonly void Run(int start, int end)
        {
            if (!Avx512F.IsSupported)
            {
                for (int r = start; r < end; r++)
                {
                    float* s = Src + (long)r * Cols, d = Dst + (long)r * Count;
                    for (int j = 0; j < Count; j++) d[j] = s[Live[j]];
                }
                return;
            }
            var laneBits = LaneBits;
            int chunks = (Cols + 15) / 16;
            for (int r = start; r < end; r++)
            {
                float* s = Src + (long)r * Cols, d = Dst + (long)r * Count;
                int pos = 0;
                for (int ch = 0; ch < chunks; ch++)
                {
                    uint bits = Masks[ch];
                    if (bits == 0) continue;
                    int n = System.Numerics.BitOperations.PopCount(bits);
                    StorePacked(VectorMath.LoadPartial(s + ch * 16, Cols - ch * 16), bits, n, laneBits, d, pos, Count);
                    pos += n;
                }
            }
        }
    }

    /// <summary>dst [count, cols] = src[live[0..count), :] for src [rows, cols].</summary>
    public static void GatherRows(ReadOnlySpan<float> src, int rows, int cols, ReadOnlySpan<int> live, int count, Span<float> dst)
    {
        Check.Matrix("ZeroColumns.GatherRows", "src", src.Length, rows, cols);
        Check.Matrix("ZeroColumns.GatherRows", "dst", dst.Length, count, cols);
        CheckIndices("GatherRows", live, count, rows);
        for (int i = 0; i < count; i++) src.Slice(live[i] * cols, cols).CopyTo(dst.Slice(i * cols, cols));
    }

    /// <summary>
    /// dst[rowIndex[i], colIndex[j]] += block[i, j] for block [rowCount, colCount] and dst [rows, cols];
    /// an empty index list is the identity (all rows, or all columns, in order).
    /// </summary>
    public static void ScatterAdd(ReadOnlySpan<float> block, ReadOnlySpan<int> rowIndex, int rowCount, ReadOnlySpan<int> colIndex, int colCount,
        Span<float> dst, int rows, int cols)
    {
        Check.Matrix("ZeroColumns.ScatterAdd", "block", block.Length, rowCount, colCount);
        Check.Matrix("ZeroColumns.ScatterAdd", "dst", dst.Length, rows, cols);
        bool allRows = rowIndex.IsEmpty, allCols = colIndex.IsEmpty;
        if (!allRows) CheckIndices("ScatterAdd", rowIndex, rowCount, rows);
        else if (rowCount != rows) throw new ArgumentException($"ZeroColumns.ScatterAdd: {rowCount} block rows without an index for {rows} rows");
        if (!allCols) CheckIndices("ScatterAdd", colIndex, colCount, cols);
        else if (colCount != cols) throw new ArgumentException($"ZeroColumns.ScatterAdd: {colCount} block columns without an index for {cols} columns");
        for (int i = 0; i < rowCount; i++)
        {
            var from = block.Slice(i * colCount, colCount);
            var to = dst.Slice((allRows ? i : rowIndex[i]) * cols, cols);
            if (allCols) System.Numerics.Tensors.TensorPrimitives.Add(to, from, to);
            else for (int j = 0; j < colCount; j++) to[colIndex[j]] += from[j];
        }
    }

    static void CheckIndices(string op, ReadOnlySpan<int> index, int count, int extent)
    {
        if (count < 0 || count > index.Length) throw new ArgumentException($"ZeroColumns.{op}: {count} indices asked of a list of {index.Length}");
        for (int i = 0; i < count; i++)
            if ((uint)index[i] >= (uint)extent || (i > 0 && index[i] <= index[i - 1]))
                throw new ArgumentException($"ZeroColumns.{op}: index {index[i]} at position {i} is out of [0, {extent}) or not ascending");
    }
}
