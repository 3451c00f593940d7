using System.Text;
using SharpCtr.Data.Raw;

namespace SharpCtr.Data.Readers;

/// <summary>MovieLens 100K: u.data (tab-separated user, item, rating, timestamp), u.user
/// (`id|age|gender|occupation|zip`) and u.item (`id|title|date|video|url|19 genre flags`, Latin-1).</summary>
public static class MovieLens100kReader
{
    static readonly string[] DefaultGenres =
    {
        "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
        "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
    };

    public static RawData Read(string dir, bool skipBadLines = false)
    {
        var raw = new RawData();
        var data = Path.Combine(dir, "u.data");
        using (var r = new LineReader(data, skipBadLines ? raw : null))
        {
            Span<Range> parts = stackalloc Range[5];
            string? line;
            while ((line = r.Next()) != null)
            {
                try
                {
                    var s = line.AsSpan();
                    if (s.Split(parts, '\t') != 4) throw r.Error("(line)", "expected user<TAB>item<TAB>rating<TAB>timestamp");
                    int user = raw.Users.GetOrAdd(s[parts[0]].Trim());
                    int item = raw.Items.GetOrAdd(s[parts[1]].Trim());
                    float rating = r.ParseFloat(s[parts[2]], "rating");
                    long ts = r.ParseLong(s[parts[3]], "timestamp");
                    raw.AddRow(user, item, rating, ts, ts);
                }
                catch (DataFormatException e) when (r.Skip(e)) { }
            }
        }
        raw.SourceFiles.Add(data);

        var users = Path.Combine(dir, "u.user");
        if (File.Exists(users))
        {
            raw.SourceFiles.Add(users);
            using var r = new LineReader(users, skipBadLines ? raw : null, Encoding.Latin1);
            string? line;
            while ((line = r.Next()) != null)
            {
                try
                {
                    var p = line.Split('|');
                    if (p.Length != 5) throw r.Error("(line)", "expected id|age|gender|occupation|zip");
                    int user = raw.Users.GetOrAdd(p[0]);
                    raw.UserAttributes.Set(user, "age", p[1]);
                    raw.UserAttributes.Set(user, "gender", p[2]);
                    raw.UserAttributes.Set(user, "occupation", p[3]);
                    raw.UserAttributes.Set(user, "zip", p[4]);
                }
                catch (DataFormatException e) when (r.Skip(e)) { }
            }
        }

        var genres = DefaultGenres;
        var genreFile = Path.Combine(dir, "u.genre");
        if (File.Exists(genreFile))
        {
            var names = new List<string>();
            foreach (var l in File.ReadLines(genreFile, Encoding.Latin1))
            {
                var p = l.Split('|');
                if (p.Length == 2 && p[0].Length > 0) names.Add(p[0]);
            }
            if (names.Count > 0) genres = names.ToArray();
        }

        var items = Path.Combine(dir, "u.item");
        if (File.Exists(items))
        {
            raw.SourceFiles.Add(items);
            using var r = new LineReader(items, skipBadLines ? raw : null, Encoding.Latin1);
            string? line;
            while ((line = r.Next()) != null)
            {
                try
                {
                    var p = line.Split('|');
                    if (p.Length != 5 + genres.Length) throw r.Error("(line)", $"expected {5 + genres.Length} '|'-separated fields", $"got {p.Length}");
                    int item = raw.Items.GetOrAdd(p[0]);
                    raw.ItemAttributes.Set(item, "title", p[1]);
                    var year = p[2].Length >= 4 ? p[2][^4..] : MovieLensReader.ReleaseYear(p[1]);
                    if (!string.IsNullOrEmpty(year)) raw.ItemAttributes.Set(item, "release_year", year);
                    var g = new List<string>();
                    for (int k = 0; k < genres.Length; k++)
                    {
                        var flag = p[5 + k].Trim();
                        if (flag == "1") g.Add(genres[k]);
                        else if (flag != "0") throw r.Error(genres[k], "genre flag must be 0 or 1", $"'{flag}'");
                    }
                    raw.ItemAttributes.Set(item, "genre", g.ToArray());
                }
                catch (DataFormatException e) when (r.Skip(e)) { }
            }
        }
        return raw;
    }
}
