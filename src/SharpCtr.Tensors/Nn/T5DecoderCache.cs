namespace SharpCtr.Tensors.Nn;

/// <summary>
/// What a <see cref="T5Decoder"/> keeps so decoding does not redo work: per layer, the
/// cross-attention keys and values of the encoder output (projected once per sequence, not once
/// per generated token or per training row that shares a history) and, while generating, the
/// self-attention keys and values of the tokens decoded so far (each step then costs one token).
/// Made by <see cref="T5Decoder.CreateCache"/>; rows are sequences.
/// </summary>
public sealed class T5DecoderCache
{
    /// <summary>Per layer, [R, Ls, H·headDim].</summary>
    public readonly Tensor[] CrossKeys, CrossValues;
    /// <summary>[R, Ls]: 1 = real memory position.</summary>
    public readonly Tensor? MemoryKeep;
    readonly Tensor?[] selfKeys, selfValues;

    /// <summary>Tokens decoded so far (the position of the next one).</summary>
    public int Length { get; private set; }
    public int Rows => CrossKeys[0].Shape[0];

    internal T5DecoderCache(Tensor[] crossKeys, Tensor[] crossValues, Tensor? memoryKeep, Tensor?[]? selfKeys = null, Tensor?[]? selfValues = null, int length = 0)
    {
        CrossKeys = crossKeys;
        CrossValues = crossValues;
        MemoryKeep = memoryKeep;
        this.selfKeys = selfKeys ?? new Tensor?[crossKeys.Length];
        this.selfValues = selfValues ?? new Tensor?[crossKeys.Length];
        Length = length;
    }

    /// <summary>
    /// The cache of rows <paramref name="rows"/> of this one, in that order (a row may repeat):
    /// training rows that share a history, or beams that continue an earlier beam.
    /// </summary>
    public T5DecoderCache Select(int[] rows)
    {
        int layers = CrossKeys.Length;
        Tensor[] ck = new Tensor[layers], cv = new Tensor[layers];
        Tensor?[] sk = new Tensor?[layers], sv = new Tensor?[layers];
        for (int l = 0; l < layers; l++)
        {
            ck[l] = Ops.IndexSelect(CrossKeys[l], rows);
            cv[l] = Ops.IndexSelect(CrossValues[l], rows);
            if (selfKeys[l] is { } k) sk[l] = Ops.IndexSelect(k, rows);
            if (selfValues[l] is { } v) sv[l] = Ops.IndexSelect(v, rows);
        }
        Tensor? keep = null;
        if (MemoryKeep is not null)
        {
            int ls = MemoryKeep.Size / Rows;
            keep = Ops.Reshape(Ops.IndexSelect(Ops.Reshape(MemoryKeep, Rows, ls), rows), rows.Length, ls);
        }
        return new T5DecoderCache(ck, cv, keep, sk, sv, Length);
    }

    /// <summary>The same projected memory with no decoded tokens (a new generation over it; this cache is left as it is).</summary>
    public T5DecoderCache WithoutTokens() => new(CrossKeys, CrossValues, MemoryKeep);

    /// <summary>Layer <paramref name="layer"/>'s self-attention keys/values with the newest token's [R, 1, H·headDim] appended.</summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor key, Tensor value)
    {
        selfKeys[layer] = selfKeys[layer] is { } k ? Ops.Concat([k, key], 1) : key;
        selfValues[layer] = selfValues[layer] is { } v ? Ops.Concat([v, value], 1) : value;
        return (selfKeys[layer]!, selfValues[layer]!);
    }

    internal void Advance() => Length++;
}
