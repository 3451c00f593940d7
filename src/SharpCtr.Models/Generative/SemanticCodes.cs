using SharpCtr.Data.Config;
using SharpCtr.Data.Encoded;

namespace SharpCtr.Models.Generative;

/// <summary>
/// Every item's semantic ID as vocabulary ids, one per level (level-specific vocabularies: code c
/// at level n is its own id). Read from the samples' item field and the semantic-ID fields
/// (sources item.semantic_id.0, .1, …); membership is fixed by the ID file, so cohorts, the codes
/// valid at each level and the trie of existing items are built once here.
/// Code id 0 = no item (padding), 1 = the item has no semantic ID.
/// </summary>
public sealed class SemanticCodes
{
    public readonly int Levels;
    /// <summary>Vocabulary size of each level (the rows of its token table and output head).</summary>
    public readonly int[] VocabSizes;
    public readonly int ItemVocab;
    readonly int[] codes;                                   // [ItemVocab, Levels]
    // the codes as the float bits a model's code buffer holds them: Matches is one memory compare
    readonly int[] codeBits;
    /// <summary>valid[level][code]: some item has this code at this level.</summary>
    readonly bool[][] valid;
    /// <summary>Trie of existing items: prefix key → the codes that may follow it.</summary>
    readonly Dictionary<long, int[]> children = new();
    readonly long radix;

    public SemanticCodes(int itemVocab, int[] vocabSizes, int[] codesByItem)
    {
        ItemVocab = itemVocab;
        VocabSizes = vocabSizes;
        Levels = vocabSizes.Length;
        codes = codesByItem;
        codeBits = Array.ConvertAll(codesByItem, c => BitConverter.SingleToInt32Bits(c));
        radix = vocabSizes.Max() + 1L;
        valid = vocabSizes.Select(v => new bool[v]).ToArray();
        var next = new Dictionary<long, SortedSet<int>>();
        for (int item = 2; item < itemVocab; item++)
        {
            if (!Has(item)) continue;
            long key = 0;
            for (int l = 0; l < Levels; l++)
            {
                int c = codes[item * Levels + l];
                valid[l][c] = true;
                if (!next.TryGetValue(key, out var set)) next[key] = set = new SortedSet<int>();
                set.Add(c);
                key = Extend(key, c);
            }
        }
        foreach (var (k, set) in next) children[k] = set.ToArray();
    }

    /// <summary>Reads the codes from a data set whose schema has the item field and one categorical field per level.</summary>
    public static SemanticCodes FromSchema(EncodedDataset schema, string itemField, IReadOnlyList<string> codeFields, string where)
    {
        if (codeFields.Count == 0)
            throw new ConfigException($"{where}: GenCI needs semantic-ID fields (categorical fields with source item.semantic_id.0, .1, …; set source.semantic_ids in the data config)");
        var item = schema.Field(itemField);
        var levels = codeFields.Select(schema.Field).ToArray();
        foreach (var f in levels.Append(item))
            if (f.Kind != "categorical") throw new ConfigException($"{where}: field '{f.Name}' must be categorical to hold a semantic code");
        int lv = levels.Length;
        var byItem = new int[item.VocabSize * lv];
        for (int i = 0; i < schema.Count; i++)
        {
            int it = item.Ids[i];
            if (it < 2) continue;
            for (int l = 0; l < lv; l++)
            {
                int c = levels[l].Ids[i], seen = byItem[it * lv + l];
                if (seen != 0 && seen != c)
                    throw new ConfigException($"{where}: item id {it} has two codes at level {l} ({seen} and {c}) in field '{levels[l].Name}'");
                byItem[it * lv + l] = c;
            }
        }
        return new SemanticCodes(item.VocabSize, levels.Select(f => f.VocabSize).ToArray(), byItem);
    }

    /// <summary>Whether the item has a semantic ID (every level a known code).</summary>
    public bool Has(int item)
    {
        if ((uint)item >= (uint)ItemVocab) return false;
        for (int l = 0; l < Levels; l++) if (codes[item * Levels + l] < 2) return false;
        return true;
    }

    /// <summary>Whether <paramref name="table"/> ([ItemVocab·Levels], codes as floats, e.g. a loaded buffer) holds exactly these codes.</summary>
    /// <summary>
    /// Whether a float code buffer (a checkpoint's or bundle's) holds exactly these codes. Checked
    /// on every batch, so a request pays it: compared as bits (whole numbers have one float
    /// encoding), a vectorised memory compare instead of an int-to-float loop.
    /// </summary>
    public bool Matches(ReadOnlySpan<float> table) =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(table).SequenceEqual(codeBits);

    public int Code(int item, int level) => (uint)item < (uint)ItemVocab ? codes[item * Levels + level] : 1;

    public bool IsValid(int level, int code) => (uint)code < (uint)valid[level].Length && valid[level][code];

    /// <summary>The trie key of a prefix extended by one code (the empty prefix is 0).</summary>
    public long Extend(long prefix, int code) => prefix * radix + code + 1;

    /// <summary>The codes that follow a prefix in some existing item (empty if none).</summary>
    public ReadOnlySpan<int> Children(long prefix) => children.TryGetValue(prefix, out var c) ? c : ReadOnlySpan<int>.Empty;
}
