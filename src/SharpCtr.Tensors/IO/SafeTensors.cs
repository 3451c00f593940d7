using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace SharpCtr.Tensors.IO;

/// <summary>
/// The safetensors format (huggingface/safetensors), float32 only: an 8-byte little-endian header
/// length N, N bytes of JSON <c>{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]},
/// "__metadata__": {string: string}}</c> padded with spaces to a multiple of 8, then the raw
/// little-endian data; offsets are relative to the start of the data section and the tensors
/// cover it without gaps. Files written here load with <c>safetensors.torch.load_file</c>.
/// </summary>
public static class SafeTensors
{
    internal const int MaxHeaderBytes = 100_000_000;   // the reference implementation's limit

    public static void Save(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        AtomicFile.Write(path, s => Write(s, tensors, metadata));

    public static void Write(Stream stream, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors writing needs a little-endian machine");
        var names = new HashSet<string>(StringComparer.Ordinal);
        var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, t) in tensors)
            {
                if (string.IsNullOrEmpty(name) || name == "__metadata__") throw new ArgumentException($"invalid tensor name '{name}'");
                if (!names.Add(name)) throw new ArgumentException($"tensor name '{name}' appears twice");
                w.WriteStartObject(name);
                w.WriteString("dtype", "F32");
                w.WriteStartArray("shape");
                foreach (var d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                offset += 4L * t.Size;
                w.WriteNumberValue(offset);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        int pad = (int)((8 - json.Length % 8) % 8);
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)(json.Length + pad));
        stream.Write(len);
        json.Position = 0;
        json.CopyTo(stream);
        for (int i = 0; i < pad; i++) stream.WriteByte((byte)' ');
        foreach (var (_, t) in tensors) stream.Write(MemoryMarshal.AsBytes(t.Span));
    }

    /// <summary>Reads every tensor of a file (for small files and tests; checkpoints read into their targets).</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(string path)
    {
        using var f = SafeTensorsFile.Open(path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, entry) in f.Entries)
        {
            var t = Tensor.Zeros((int[])entry.Shape.Clone());
            f.ReadInto(name, t.Span);
            result[name] = t;
        }
        return (result, new Dictionary<string, string>(f.Metadata, StringComparer.Ordinal));
    }
}

/// <summary>An open safetensors file whose header has been parsed and checked; tensors are read on demand.</summary>
public sealed class SafeTensorsFile : IDisposable
{
    public sealed record Entry(int[] Shape, long Begin, long End);

    public readonly string Path;
    public IReadOnlyDictionary<string, Entry> Entries => entries;
    public IReadOnlyDictionary<string, string> Metadata => metadata;

    readonly FileStream stream;
    readonly long dataStart;
    readonly Dictionary<string, Entry> entries = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> metadata = new(StringComparer.Ordinal);

    SafeTensorsFile(string path, FileStream stream)
    {
        Path = path;
        this.stream = stream;
        long fileLength = stream.Length;
        Span<byte> lenBytes = stackalloc byte[8];
        if (fileLength < 8 || stream.ReadAtLeast(lenBytes, 8, throwOnEndOfStream: false) < 8)
            throw Bad($"file is {fileLength} bytes, too short for the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
        if (headerLength > SafeTensors.MaxHeaderBytes) throw Bad($"header length {headerLength} exceeds the limit of {SafeTensors.MaxHeaderBytes} bytes (not a safetensors file?)");
        if ((long)headerLength > fileLength - 8) throw Bad($"header length {headerLength} exceeds the {fileLength - 8} bytes after it (truncated file?)");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        dataStart = 8 + (long)headerLength;
        ParseHeader(header, fileLength - dataStart);
    }

    public static SafeTensorsFile Open(string path)
    {
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try { return new SafeTensorsFile(path, fs); }
        catch { fs.Dispose(); throw; }
    }

    /// <summary>Copies tensor <paramref name="name"/> into <paramref name="destination"/> (exactly its size).</summary>
    public void ReadInto(string name, Span<float> destination)
    {
        if (!entries.TryGetValue(name, out var e)) throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");
        if ((e.End - e.Begin) / 4 != destination.Length)
            throw new ArgumentException($"{Path}: tensor '{name}' has {(e.End - e.Begin) / 4} elements, destination has {destination.Length}");
        stream.Position = dataStart + e.Begin;
        stream.ReadExactly(MemoryMarshal.AsBytes(destination));
        if (!BitConverter.IsLittleEndian)
        {
            var ints = MemoryMarshal.Cast<float, int>(destination);
            BinaryPrimitives.ReverseEndianness(ints, ints);
        }
    }

    public void Dispose() => stream.Dispose();

    InvalidDataException Bad(string message) => new($"{Path}: invalid safetensors file: {message}");

    void ParseHeader(byte[] header, long dataLength)
    {
        if (header.Length == 0 || header[0] != (byte)'{') throw Bad("header does not start with '{'");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException ex) { throw Bad($"header is not valid JSON ({ex.Message})"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad("header is not a JSON object");
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw Bad("__metadata__ is not an object");
                    foreach (var kv in prop.Value.EnumerateObject())
                    {
                        if (kv.Value.ValueKind != JsonValueKind.String) throw Bad($"__metadata__ value of '{kv.Name}' is not a string");
                        metadata[kv.Name] = kv.Value.GetString()!;
                    }
                    continue;
                }
                entries[prop.Name] = ParseEntry(prop.Name, prop.Value);
            }
        }
        // The tensors must tile the data section exactly: no gaps, no overlap, nothing missing.
        var sorted = entries.OrderBy(kv => kv.Value.Begin).ThenBy(kv => kv.Value.End).ToList();
        long expected = 0;
        foreach (var (name, e) in sorted)
        {
            if (e.Begin != expected) throw Bad($"tensor '{name}' starts at data offset {e.Begin}, expected {expected} (gap or overlap)");
            expected = e.End;
        }
        if (expected > dataLength) throw Bad($"tensors need {expected} data bytes but the file has {dataLength} (truncated file?)");
        if (expected < dataLength) throw Bad($"file has {dataLength - expected} bytes after the last tensor");
    }

    Entry ParseEntry(string name, JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Object) throw Bad($"entry '{name}' is not an object");
        if (!v.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String) throw Bad($"tensor '{name}' has no dtype");
        if (dtype.GetString() != "F32") throw Bad($"tensor '{name}' has dtype {dtype.GetString()}; only F32 is supported");
        if (!v.TryGetProperty("shape", out var shapeEl) || shapeEl.ValueKind != JsonValueKind.Array) throw Bad($"tensor '{name}' has no shape");
        var shape = new int[shapeEl.GetArrayLength()];
        if (shape.Length > Tensor.MaxRank) throw Bad($"tensor '{name}' has rank {shape.Length} > {Tensor.MaxRank}");
        long count = 1;
        int k = 0;
        foreach (var d in shapeEl.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out var di) || di < 0) throw Bad($"tensor '{name}' has an invalid dimension {d}");
            shape[k++] = di;
            count *= di;
            if (count > Array.MaxLength) throw Bad($"tensor '{name}' is too large");
        }
        if (!v.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2
            || !off[0].TryGetInt64(out var begin) || !off[1].TryGetInt64(out var end) || begin < 0 || end < begin)
            throw Bad($"tensor '{name}' has invalid data_offsets");
        if (end - begin != 4 * count) throw Bad($"tensor '{name}' of shape {Tensor.ShapeString(shape)} needs {4 * count} bytes but data_offsets span {end - begin}");
        return new Entry(shape, begin, end);
    }
}
