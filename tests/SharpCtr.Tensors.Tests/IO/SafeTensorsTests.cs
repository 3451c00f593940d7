using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using SharpCtr.Tensors.IO;

namespace SharpCtr.Tensors.Tests.IO;

public sealed class SafeTensorsTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "sharpctr-safetensors-" + Guid.NewGuid().ToString("N"));

    public SafeTensorsTests() => Directory.CreateDirectory(dir);
    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void ReadsAFileWrittenByPython()
    {
        var (tensors, metadata) = SafeTensors.Load(FixtureFiles.PathOf("python_written.safetensors"));
        using var expected = JsonDocument.Parse(File.ReadAllText(FixtureFiles.PathOf("safetensors_expected.json")));
        var names = new List<string>();
        foreach (var e in expected.RootElement.GetProperty("tensors").EnumerateObject())
        {
            names.Add(e.Name);
            var t = tensors[e.Name];
            Assert.Equal(e.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray(), t.Shape);
            Assert.Equal(e.Value.GetProperty("values").EnumerateArray().Select(x => x.GetSingle()).ToArray(), t.ToArray());
        }
        Assert.Equal(names.Order(), tensors.Keys.Order());
        Assert.Equal("3", metadata["epoch"]);
        Assert.Equal("pt", metadata["format"]);
    }

    [Fact]
    public void WritesTheSpecifiedLayout()
    {
        var path = Path.Combine(dir, "a.safetensors");
        var w = Tensor.FromArray([1f, -2f, 3.5f, 0f, 5f, 6f], 2, 3);
        var s = Tensor.Scalar(7f);
        SafeTensors.Save(path, [new("w", w), new("s", s)], new Dictionary<string, string> { ["epoch"] = "2" });

        var bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.StartsWith("{", header);
        Assert.Equal(header.TrimEnd(' ').Length, header.TrimEnd().Length);   // padding is spaces
        using var doc = JsonDocument.Parse(header);
        var root = doc.RootElement;
        Assert.Equal("F32", root.GetProperty("w").GetProperty("dtype").GetString());
        Assert.Equal([2, 3], root.GetProperty("w").GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal([0L, 24L], root.GetProperty("w").GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()));
        Assert.Equal([24L, 28L], root.GetProperty("s").GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()));
        Assert.Equal(0, root.GetProperty("s").GetProperty("shape").GetArrayLength());
        Assert.Equal("2", root.GetProperty("__metadata__").GetProperty("epoch").GetString());
        Assert.Equal(8 + (int)n + 28, bytes.Length);
        Assert.Equal(3.5f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)n + 8)));
        Assert.Equal(7f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)n + 24)));
    }

    [Fact]
    public void RoundTripsTensorsAndMetadata()
    {
        var path = Path.Combine(dir, "b.safetensors");
        var rng = new Rng(2);
        var a = TestUtil.Randn(rng, 3, 5, 2);
        var empty = Tensor.Zeros(0, 4);
        SafeTensors.Save(path, [new("a", a), new("empty", empty)], new Dictionary<string, string> { ["note"] = "héllo \"x\"" });
        var (t, meta) = SafeTensors.Load(path);
        Assert.Equal(a.ToArray(), t["a"].ToArray());
        Assert.Equal([3, 5, 2], t["a"].Shape);
        Assert.Equal([0, 4], t["empty"].Shape);
        Assert.Equal("héllo \"x\"", meta["note"]);
    }

    string Write(string name, byte[] bytes) { var p = Path.Combine(dir, name); File.WriteAllBytes(p, bytes); return p; }

    static byte[] Build(string header, int dataBytes)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var b = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)h.Length);
        h.CopyTo(b, 8);
        return b;
    }

    [Theory]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, "not valid JSON")]
    [InlineData("[1,2]", 0, "does not start with '{'")]
    [InlineData("{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "dtype F16")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "truncated")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "gap or overlap")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, "after the last tensor")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "no shape")]
    public void CorruptFilesFailWithAClearMessage(string header, int dataBytes, string expected)
    {
        var path = Write("bad.safetensors", Build(header, dataBytes));
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains(expected, ex.Message);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void TruncatedHeaderAndTinyFilesFail()
    {
        var good = Path.Combine(dir, "g.safetensors");
        SafeTensors.Save(good, [new("w", Tensor.Full(1f, 4))]);
        var bytes = File.ReadAllBytes(good);
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(Write("t1", bytes[..20])));
        Assert.Contains("exceeds", ex.Message);
        ex = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(Write("t2", bytes[..^4])));
        Assert.Contains("truncated", ex.Message);
        ex = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(Write("t3", bytes[..5])));
        Assert.Contains("too short", ex.Message);
        var huge = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue);
        ex = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(Write("t4", huge)));
        Assert.Contains("limit", ex.Message);
    }
}
