using System.Text;
using SharpCtr.Data.Raw;

namespace SharpCtr.Data.Readers;

/// <summary>
/// MovieLens 1M / 10M / 20M in their published layouts (ratings.dat `u::i::r::ts` or
/// ratings.csv with a header, movies.dat Latin-1 or movies.csv, users.dat when present) and
/// this project's ratings-chrono.csv (chronological position in `seq_pos`).
/// Chronological order: seq_pos for ratings-chrono.csv, otherwise timestamp then file order.
/// </summary>
public static class MovieLensReader
{
    static readonly Encoding Latin1 = Encoding.Latin1;

    /// <param name="ratingsFile">"auto" picks ratings-chrono.csv, then ratings.dat, then ratings.csv.</param>
    public static RawData Read(string dir, string ratingsFile = "auto", bool skipBadLines = false)
    {
        var raw = new RawData();
        var ratings = ratingsFile == "auto" ? FindRatings(dir) : Path.Combine(dir, ratingsFile);
        var name = Path.GetFileName(ratings);
        if (name.StartsWith("ratings-chrono", StringComparison.Ordinal)) ReadChronoCsv(ratings, raw, skipBadLines);
        else if (name.EndsWith(".dat", StringComparison.Ordinal)) ReadRatingsDat(ratings, raw, skipBadLines);
        else ReadRatingsCsv(ratings, raw, skipBadLines);
        raw.SourceFiles.Add(ratings);

        var movies = Path.Combine(dir, "movies.dat");
        if (File.Exists(movies)) { ReadMoviesDat(movies, raw, skipBadLines); raw.SourceFiles.Add(movies); }
        else if (File.Exists(movies = Path.Combine(dir, "movies.csv"))) { ReadMoviesCsv(movies, raw, skipBadLines); raw.SourceFiles.Add(movies); }
        var users = Path.Combine(dir, "users.dat");
        if (File.Exists(users)) { ReadUsersDat(users, raw, skipBadLines); raw.SourceFiles.Add(users); }
        return raw;
    }

    public static string FindRatings(string dir)
    {
        foreach (var f in new[] { "ratings-chrono.csv", "ratings.dat", "ratings.csv" })
            if (File.Exists(Path.Combine(dir, f))) return Path.Combine(dir, f);
        throw new FileNotFoundException($"{dir}: no ratings-chrono.csv, ratings.dat or ratings.csv");
    }

    static void ReadChronoCsv(string path, RawData raw, bool skip)
    {
        using var r = new LineReader(path, skip ? raw : null);
        var header = r.Next()!.Split(',');
        int cu = Col(header, "user_id", r), cp = Col(header, "seq_pos", r), ci = Col(header, "item_id", r), cr = Col(header, "rating", r);
        int ct = Array.IndexOf(header, "timestamp");
        Span<Range> parts = stackalloc Range[header.Length + 1];
        string? line;
        while ((line = r.Next()) != null)
        {
            try
            {
                var s = line.AsSpan();
                if (s.Split(parts, ',') != header.Length) throw r.Error("(line)", $"expected {header.Length} comma-separated fields");
                int user = raw.Users.GetOrAdd(s[parts[cu]]);
                long pos = r.ParseLong(s[parts[cp]], "seq_pos");
                int item = raw.Items.GetOrAdd(s[parts[ci]]);
                float rating = r.ParseFloat(s[parts[cr]], "rating");
                long ts = ct >= 0 && !s[parts[ct]].IsEmpty ? r.ParseLong(s[parts[ct]], "timestamp") : -1;
                raw.AddRow(user, item, rating, pos, ts);
            }
            catch (DataFormatException e) when (r.Skip(e)) { }
        }
    }

    static int Col(string[] header, string name, LineReader r)
    {
        int i = Array.IndexOf(header, name);
        if (i < 0) throw r.Error(name, "missing column in header", string.Join(",", header));
        return i;
    }

    static void ReadRatingsDat(string path, RawData raw, bool skip)
    {
        using var r = new LineReader(path, skip ? raw : null, Latin1);
        Span<Range> parts = stackalloc Range[5];
        string? line;
        while ((line = r.Next()) != null)
        {
            try
            {
                var s = line.AsSpan();
                if (s.Split(parts, "::") != 4) throw r.Error("(line)", "expected UserID::MovieID::Rating::Timestamp");
                int user = raw.Users.GetOrAdd(s[parts[0]]);
                int item = raw.Items.GetOrAdd(s[parts[1]]);
                float rating = r.ParseFloat(s[parts[2]], "Rating");
                long ts = r.ParseLong(s[parts[3]], "Timestamp");
                raw.AddRow(user, item, rating, ts, ts);
            }
            catch (DataFormatException e) when (r.Skip(e)) { }
        }
    }

    static void ReadRatingsCsv(string path, RawData raw, bool skip)
    {
        using var r = new LineReader(path, skip ? raw : null);
        var header = r.Next()!.Split(',');
        int cu = Col(header, "userId", r), ci = Col(header, "movieId", r), cr = Col(header, "rating", r), ct = Col(header, "timestamp", r);
        Span<Range> parts = stackalloc Range[header.Length + 1];
        string? line;
        while ((line = r.Next()) != null)
        {
            try
            {
                var s = line.AsSpan();
                if (s.Split(parts, ',') != header.Length) throw r.Error("(line)", $"expected {header.Length} comma-separated fields");
                int user = raw.Users.GetOrAdd(s[parts[cu]]);
                int item = raw.Items.GetOrAdd(s[parts[ci]]);
                float rating = r.ParseFloat(s[parts[cr]], "rating");
                long ts = r.ParseLong(s[parts[ct]], "timestamp");
                raw.AddRow(user, item, rating, ts, ts);
            }
            catch (DataFormatException e) when (r.Skip(e)) { }
        }
    }

    static void ReadMoviesDat(string path, RawData raw, bool skip)
    {
        using var r = new LineReader(path, skip ? raw : null, Latin1);
        string? line;
        while ((line = r.Next()) != null)
        {
            try
            {
                var parts = line.Split("::");
                if (parts.Length != 3) throw r.Error("(line)", "expected MovieID::Title::Genres");
                AddMovie(raw, parts[0], parts[1], parts[2]);
            }
            catch (DataFormatException e) when (r.Skip(e)) { }
        }
    }

    static void ReadMoviesCsv(string path, RawData raw, bool skip)
    {
        using var r = new LineReader(path, skip ? raw : null);
        r.Next(); // header movieId,title,genres
        string? line;
        while ((line = r.Next()) != null)
        {
            try
            {
                var parts = Csv.SplitQuoted(line, ',');
                if (parts.Count != 3) throw r.Error("(line)", "expected movieId,title,genres");
                AddMovie(raw, parts[0], parts[1], parts[2]);
            }
            catch (DataFormatException e) when (r.Skip(e)) { }
        }
    }

    internal static void AddMovie(RawData raw, string id, string title, string genres)
    {
        int item = raw.Items.GetOrAdd(id.Trim());
        raw.ItemAttributes.Set(item, "title", title);
        var year = ReleaseYear(title);
        if (year != null) raw.ItemAttributes.Set(item, "release_year", year);
        raw.ItemAttributes.Set(item, "genre", genres.Split('|', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>The year in the last "(1995)" of a title, or null.</summary>
    public static string? ReleaseYear(string title)
    {
        var t = title.TrimEnd();
        int close = t.LastIndexOf(')');
        while (close >= 5)
        {
            var candidate = t.AsSpan(close - 5, 6);
            if (candidate[0] == '(' && char.IsAsciiDigit(candidate[1]) && char.IsAsciiDigit(candidate[2]) && char.IsAsciiDigit(candidate[3]) && char.IsAsciiDigit(candidate[4]))
                return candidate[1..5].ToString();
            close = t.LastIndexOf(')', close - 1);
        }
        return null;
    }

    static void ReadUsersDat(string path, RawData raw, bool skip)
    {
        using var r = new LineReader(path, skip ? raw : null, Latin1);
        string? line;
        while ((line = r.Next()) != null)
        {
            try
            {
                var p = line.Split("::");
                if (p.Length != 5) throw r.Error("(line)", "expected UserID::Gender::Age::Occupation::Zip-code");
                int user = raw.Users.GetOrAdd(p[0]);
                raw.UserAttributes.Set(user, "gender", p[1]);
                raw.UserAttributes.Set(user, "age", p[2]);
                raw.UserAttributes.Set(user, "occupation", p[3]);
                raw.UserAttributes.Set(user, "zip", p[4]);
            }
            catch (DataFormatException e) when (r.Skip(e)) { }
        }
    }
}
