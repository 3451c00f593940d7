using SharpCtr.Data.Config;
using SharpCtr.Data.Raw;
using SharpCtr.Data.Readers;

namespace SharpCtr.Data.Tests.Readers;

public class BadInputTests
{
    static string Dir(params (string Name, byte[] Bytes)[] files)
    {
        var dir = Path.Combine(Path.GetTempPath(), "sharpctr-bad-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        foreach (var (name, bytes) in files) File.WriteAllBytes(Path.Combine(dir, name), bytes);
        return dir;
    }

    static (string, byte[]) Text(string name, string text) => (name, System.Text.Encoding.UTF8.GetBytes(text));

    [Fact]
    public void MalformedLineNamesFileLineAndField()
    {
        var dir = Dir(Text("ratings.dat", "1::10::5::1000\n1::11::five::1001\n"));
        var e = Assert.Throws<DataFormatException>(() => MovieLensReader.Read(dir));
        Assert.EndsWith("ratings.dat", e.File);
        Assert.Equal(2, e.Line);
        Assert.Equal("Rating", e.Field);
        Assert.Contains("ratings.dat:2: field 'Rating'", e.Message);

        var wrongCount = Dir(Text("ratings.dat", "1::10::5::1000\n1::11::1001\n"));
        Assert.Contains(":2: field '(line)'", Assert.Throws<DataFormatException>(() => MovieLensReader.Read(wrongCount)).Message);
    }

    [Fact]
    public void NaNIsRejected()
    {
        var dir = Dir(Text("u.data", "1\t1\t5\t881250949\n1\t2\tNaN\t881250950\n"));
        var e = Assert.Throws<DataFormatException>(() => MovieLens100kReader.Read(dir));
        Assert.Equal(2, e.Line);
        Assert.Equal("rating", e.Field);
        Assert.Contains("NaN", e.Message);
    }

    [Fact]
    public void ACorruptGzipFileIsNamed()
    {
        var dir = Dir(Text("ratings.csv.gz", "not gzip at all"));
        var path = Path.Combine(dir, "ratings.csv.gz");
        using var reader = new LineReader(path);
        var e = Assert.Throws<InvalidDataException>(() => reader.Next());
        Assert.StartsWith($"{path}: not a readable gzip file", e.Message);
    }

    [Fact]
    public void EmptyFileIsAnError()
    {
        var dir = Dir(Text("ratings.dat", ""));
        Assert.Contains("empty file", Assert.Throws<DataFormatException>(() => MovieLensReader.Read(dir)).Message);
    }

    [Fact]
    public void WrongEncodingIsAnError()
    {
        var dir = Dir(("ratings-chrono.csv", new byte[] { (byte)'u', (byte)'s', (byte)'e', (byte)'r', (byte)'_', (byte)'i', (byte)'d', (byte)'\n', 0xff, 0xfe, (byte)'\n' }));
        var e = Assert.Throws<DataFormatException>(() => MovieLensReader.Read(dir));
        Assert.Contains("encoding", e.Message);
    }

    [Fact]
    public void SkipCountsBadLinesByReason()
    {
        var dir = Dir(Text("ratings.dat", "1::10::5::1000\n1::11::five::1001\n1::12::NaN::1002\nbroken\n2::10::4::1003\n1::13::x::1\n"));
        var raw = MovieLensReader.Read(dir, skipBadLines: true);
        Assert.Equal(2, raw.RowCount);
        Assert.Equal(2, raw.Skipped["Rating: not a number"]);
        Assert.Equal(1, raw.Skipped["Rating: NaN or infinite"]);
        Assert.Equal(1, raw.Skipped["(line): expected UserID::MovieID::Rating::Timestamp"]);
    }

    [Fact]
    public void ImpressionWithUnknownItemOrBadClick()
    {
        var dir = Dir(Text("items.jsonl", "{\"item_id\": \"i1\", \"category\": \"c\"}\n"),
                      Text("requests.jsonl", "{\"request_id\": 1, \"user_id\": \"u\", \"timestamp\": 1, \"items\": [{\"item_id\": \"i1\", \"clicked\": 1}]}\n" +
                                             "{\"request_id\": 2, \"user_id\": \"u\", \"timestamp\": 2, \"items\": [{\"item_id\": \"i9\", \"clicked\": 0}]}\n" +
                                             "{\"request_id\": 3, \"user_id\": \"u\", \"timestamp\": 3, \"items\": [{\"item_id\": \"i1\", \"clicked\": 2}]}\n" +
                                             "{not json\n"));
        var e = Assert.Throws<DataFormatException>(() => ImpressionLogReader.Read(dir));
        Assert.Contains("requests.jsonl:2: field 'items.item_id'", e.Message);
        var log = ImpressionLogReader.Read(dir, skipBadLines: true);
        Assert.Equal(1, log.Raw.RowCount);  // nothing half-added from skipped requests
        Assert.Equal(3, log.Raw.Skipped.Values.Sum());
        var noCategory = Dir(Text("items.jsonl", "{\"item_id\": \"i1\"}\n"), Text("requests.jsonl", "{}\n"));
        Assert.Contains("items.jsonl:1: field 'category'", Assert.Throws<DataFormatException>(() => ImpressionLogReader.Read(noCategory)).Message);
    }

    [Fact]
    public void UnknownConfigFieldKeySuggestsTheValidOne()
    {
        var e = Assert.Throws<ConfigException>(() => DataConfig.Parse("name: x\nsource: {path: p}\nfields:\n  - {name: a, sorce: user_id}\n"));
        Assert.Contains("unknown key 'sorce'", e.Message);
        Assert.Contains("did you mean 'source'", e.Message);
        Assert.Contains(":4", e.Message);
        var bad = Assert.Throws<ConfigException>(() => DataConfig.Parse("name: x\nsource: {path: p}\nfields: [{name: a, source: usr.gender}]\n"));
        Assert.Contains("usr.gender", bad.Message);
    }
}
