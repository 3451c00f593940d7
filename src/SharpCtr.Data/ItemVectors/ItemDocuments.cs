using SharpCtr.Data.Raw;
using SharpCtr.Data.Readers;

namespace SharpCtr.Data.Vectors;

/// <summary>
/// Each item's text and attributes as a list of field-tagged tokens ("title:story",
/// "genre:Comedy", "year:1995", "category:Guitars", "store:Fender"), from the attributes the
/// MovieLens and Amazon readers attach. The field tag keeps a word in a title apart from the same
/// word as a category, and lets the vectors weight each field on its own.
/// </summary>
public static class ItemDocuments
{
    public static readonly string[] Fields = { "title", "genre", "year", "category", "store" };

    /// <param name="yearBucket">release years are grouped into buckets of this many years (1995–1999 → year:1995).</param>
    public static string[][] From(RawData raw, int yearBucket = 5)
    {
        var docs = new string[raw.Items.Count][];
        var tokens = new List<string>();
        for (int item = 0; item < raw.Items.Count; item++)
        {
            tokens.Clear();
            var attrs = raw.ItemAttributes;
            if (attrs.Get(item, "title") is { Length: > 0 } title)
            {
                var year = MovieLensReader.ReleaseYear(title[0]);
                var text = year == null ? title[0] : title[0][..title[0].LastIndexOf("(" + year + ")", StringComparison.Ordinal)];
                AddWords(text, "title:", tokens);
            }
            if (attrs.Get(item, "genre") is { } genres)
                foreach (var g in genres) tokens.Add("genre:" + g);
            if (attrs.Get(item, "release_year") is { Length: > 0 } ry && int.TryParse(ry[0], out var y))
                tokens.Add("year:" + (y - ((y % yearBucket) + yearBucket) % yearBucket));
            if (attrs.Get(item, "category_path") is { } path)
                foreach (var c in path) tokens.Add("category:" + c);
            else if (attrs.Get(item, "category") is { } cats)
                foreach (var c in cats) tokens.Add("category:" + c);
            if (attrs.Get(item, "store") is { } store)
                foreach (var s in store) tokens.Add("store:" + s);
            docs[item] = tokens.ToArray();
        }
        return docs;
    }

    /// <summary>Lower-case runs of letters and digits, at least two characters long.</summary>
    public static void AddWords(string text, string prefix, List<string> into)
    {
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && !char.IsLetterOrDigit(text[i])) i++;
            int start = i;
            while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '\'')) i++;
            var word = text[start..i].Replace("'", "").ToLowerInvariant();
            if (word.Length >= 2) into.Add(prefix + word);
        }
    }

    /// <summary>The field of a token: the text before its first ':'.</summary>
    public static string FieldOf(string token)
    {
        int c = token.IndexOf(':');
        return c < 0 ? "" : token[..c];
    }
}
