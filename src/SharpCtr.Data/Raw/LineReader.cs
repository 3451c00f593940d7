using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace SharpCtr.Data.Raw;

/// <summary>
/// Streams a text file line by line (gzip when the name ends in .gz), counting lines so that
/// every error can name file and line, and applying the `on_error` policy: fail (throw) or
/// skip (count the line by reason and go on).
/// </summary>
public sealed class LineReader : IDisposable
{
    readonly StreamReader _reader;
    readonly RawData? _skipInto;
    public string File { get; }
    public long LineNumber { get; private set; }
    public long LinesRead { get; private set; }

    public LineReader(string path, RawData? skipInto = null, Encoding? encoding = null)
    {
        File = path;
        _skipInto = skipInto;
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        Stream s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) s = new GZipStream(s, CompressionMode.Decompress);
        // Strict UTF-8 by default, so a file in another encoding fails loudly instead of garbling ids.
        _reader = new StreamReader(s, encoding ?? new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true, 1 << 16);
    }

    /// <summary>The next non-blank line, or null at the end; an empty file is an error.</summary>
    public string? Next()
    {
        while (true)
        {
            string? line;
            try { line = _reader.ReadLine(); }
            catch (DecoderFallbackException) { throw new DataFormatException(File, LineNumber + 1, "(line)", "invalid text encoding", "expected UTF-8"); }
            catch (InvalidDataException e) { throw new InvalidDataException($"{File}: not a readable gzip file ({e.Message})", e); }
            if (line == null)
            {
                if (LinesRead == 0) throw new DataFormatException(File, 0, "(file)", "empty file");
                return null;
            }
            LineNumber++;
            if (line.Length == 0 || (line.Length == 1 && line[0] == '\r')) continue;
            LinesRead++;
            return line;
        }
    }

    /// <summary>Under `on_error: skip` records the problem and returns true; otherwise rethrows.</summary>
    public bool Skip(DataFormatException e)
    {
        if (_skipInto == null) return false;
        _skipInto.CountSkip(e.Reason);
        return true;
    }

    public DataFormatException Error(string field, string problem, string detail = "") => new(File, LineNumber, field, problem, detail);

    public int ParseInt(ReadOnlySpan<char> s, string field)
    {
        s = s.Trim();
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)) throw Error(field, "not an integer", $"'{s}'");
        return v;
    }

    public long ParseLong(ReadOnlySpan<char> s, string field)
    {
        s = s.Trim();
        if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
        {
            // some dumps write integral timestamps as 9.78e8 or 978300760.0
            if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) && d == Math.Floor(d)) return (long)d;
            throw Error(field, "not an integer", $"'{s}'");
        }
        return v;
    }

    public float ParseFloat(ReadOnlySpan<char> s, string field)
    {
        s = s.Trim();
        if (!float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) throw Error(field, "not a number", $"'{s}'");
        if (!float.IsFinite(v)) throw Error(field, "NaN or infinite", $"'{s}'");
        return v;
    }

    public void Dispose() => _reader.Dispose();
}
