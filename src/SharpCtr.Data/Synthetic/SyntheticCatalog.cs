using System.Globalization;
using System.Text;

namespace SharpCtr.Data.Synthetic;

/// <summary>
/// The category tree and its words. Top categories are c0..c{T-1}; leaves follow as
/// c{T}..c{T+L-1}, leaf l under top l / leaves_per_top. Each leaf and each top has its own
/// vocabulary of pseudo-words; generic words belong to no category.
/// </summary>
public sealed class SyntheticCatalog
{
    public static readonly string[] Devices = ["ios", "android", "web", "desktop"];
    public static readonly double[] DeviceShare = [0.35, 0.35, 0.2, 0.1];
    public static readonly string[] Sources = ["search_bar", "suggestion", "history", "category_nav"];
    public static readonly double[] SourceShare = [0.55, 0.25, 0.1, 0.1];
    /// <summary>Night, morning, afternoon, evening: the hour bands that pull intent.</summary>
    public const int HourBands = 4;

    public int TopCategories { get; }
    public int LeavesPerTop { get; }
    public int Leaves => TopCategories * LeavesPerTop;
    public string[][] LeafWords { get; }
    public string[][] TopWords { get; }
    public string[] GenericWords { get; }

    /// <summary>How much each hour band / device / source / the weekend favours each top category (N(0,1) draws).</summary>
    public double[,] HourAffinity { get; }
    public double[,] DeviceAffinity { get; }
    public double[,] SourceAffinity { get; }
    public double[] WeekendAffinity { get; }

    public SyntheticCatalog(SyntheticSearchOptions o, SynthRandom random)
    {
        TopCategories = o.TopCategories;
        LeavesPerTop = o.LeavesPerTop;
        var wordCount = Leaves * o.LeafVocabulary + TopCategories * o.TopVocabulary + o.GenericVocabulary;
        var words = DistinctWords(wordCount, random);
        var next = 0;
        LeafWords = new string[Leaves][];
        for (var l = 0; l < Leaves; l++) LeafWords[l] = words[next..(next += o.LeafVocabulary)];
        TopWords = new string[TopCategories][];
        for (var t = 0; t < TopCategories; t++) TopWords[t] = words[next..(next += o.TopVocabulary)];
        GenericWords = words[next..(next += o.GenericVocabulary)];

        HourAffinity = Affinity(HourBands, random);
        DeviceAffinity = Affinity(Devices.Length, random);
        SourceAffinity = Affinity(Sources.Length, random);
        WeekendAffinity = new double[TopCategories];
        for (var t = 0; t < TopCategories; t++) WeekendAffinity[t] = random.Gaussian();
    }

    public int TopOf(int leaf) => leaf / LeavesPerTop;
    public string LeafId(int leaf) => CategoryId(TopCategories + leaf);
    public string TopId(int top) => CategoryId(top);
    static string CategoryId(int c) => "c" + c.ToString(CultureInfo.InvariantCulture);

    public static int HourBand(int hour) => hour / 6;

    double[,] Affinity(int columns, SynthRandom random)
    {
        var a = new double[TopCategories, columns];
        for (var t = 0; t < TopCategories; t++)
            for (var c = 0; c < columns; c++) a[t, c] = random.Gaussian();
        return a;
    }

    // Pronounceable, distinct words: index k spelled in base (consonant × vowel) syllables, over a
    // shuffled range so that neighbouring categories do not get look-alike words.
    static string[] DistinctWords(int count, SynthRandom random)
    {
        const string consonants = "bdfgklmnprstvz";
        const string vowels = "aeiou";
        var syllables = consonants.Length * vowels.Length;
        var space = Math.Max(count * 4, syllables * syllables);
        var chosen = new HashSet<int>();
        var result = new string[count];
        var sb = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            int k;
            do { k = random.Next(space); } while (!chosen.Add(k));
            sb.Clear();
            // At least two syllables; more only when the space needs it.
            var rest = k;
            var n = 0;
            do
            {
                var s = rest % syllables;
                rest /= syllables;
                sb.Append(consonants[s / vowels.Length]).Append(vowels[s % vowels.Length]);
                n++;
            } while (rest > 0 || n < 2);
            result[i] = sb.ToString();
        }
        return result;
    }
}
