using System.Globalization;
using System.Text;
using SharpCtr.Data.Raw;

namespace SharpCtr.Data.Readers;

/// <summary>Item vectors: Keys[i] has the vector Values[i*Dim .. (i+1)*Dim).</summary>
public sealed record ItemVectors(IReadOnlyList<string> Keys, float[] Values, int Dim)
{
    public ReadOnlySpan<float> Of(int row) => Values.AsSpan(row * Dim, Dim);
}

/// <summary>
/// Item vector files: TSV (`item&lt;TAB&gt;v1 v2 …`, values separated by spaces or commas) or
/// NumPy .npy (float32/float64, 2-D, C order), whose row i belongs to ids[i] (default: "i").
/// </summary>
public static class ItemVectorReader
{
    public static ItemVectors Read(string path, IReadOnlyList<string>? npyIds = null) =>
        path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) ? ReadNpy(path, npyIds) : ReadTsv(path);

    public static ItemVectors ReadTsv(string path)
    {
        var keys = new List<string>();
        var values = new List<float>();
        int dim = -1;
        using var r = new LineReader(path);
        string? line;
        while ((line = r.Next()) != null)
        {
            int tab = line.IndexOf('\t');
            if (tab <= 0) throw r.Error("(line)", "expected item<TAB>v1 v2 ...");
            var parts = line[(tab + 1)..].Split(new[] { ' ', ',' }, StringSplitOptions.RemoveEmptyEntries);
            if (dim < 0) dim = parts.Length;
            if (parts.Length != dim || dim == 0) throw r.Error("vector", $"expected {dim} values", $"got {parts.Length}");
            for (int k = 0; k < parts.Length; k++) values.Add(r.ParseFloat(parts[k], $"vector[{k}]"));
            keys.Add(line[..tab]);
        }
        return new ItemVectors(keys, values.ToArray(), dim);
    }

    /// <summary>Reads the .npy header (magic, version, a Python dict literal) and the raw little-endian data.</summary>
    public static ItemVectors ReadNpy(string path, IReadOnlyList<string>? ids = null)
    {
        using var fs = File.OpenRead(path);
        using var br = new BinaryReader(fs);
        var magic = br.ReadBytes(6);
        if (magic.Length < 6 || magic[0] != 0x93 || Encoding.ASCII.GetString(magic, 1, 5) != "NUMPY")
            throw new DataFormatException(path, 0, "(header)", "not a .npy file");
        byte major = br.ReadByte(); br.ReadByte();
        int headerLen = major == 1 ? br.ReadUInt16() : (int)br.ReadUInt32();
        var header = Encoding.ASCII.GetString(br.ReadBytes(headerLen));
        string descr = Between(header, "'descr':", ",").Trim().Trim('\'');
        bool fortran = Between(header, "'fortran_order':", ",").Trim() == "True";
        var shapeText = Between(header, "'shape':", ")").Trim().TrimStart('(');
        var shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        if (fortran) throw new DataFormatException(path, 0, "fortran_order", "Fortran-order arrays are not supported");
        if (shape.Length != 2) throw new DataFormatException(path, 0, "shape", "expected a 2-D array", shapeText);
        int rows = shape[0], dim = shape[1];
        var values = new float[rows * dim];
        if (descr is "<f4")
            fs.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        else if (descr is "<f8")
        {
            var d = new double[rows * dim];
            fs.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(d.AsSpan()));
            for (int i = 0; i < d.Length; i++) values[i] = (float)d[i];
        }
        else throw new DataFormatException(path, 0, "descr", "expected little-endian float32 (<f4) or float64 (<f8)", descr);
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) throw new DataFormatException(path, 0, $"row {i / dim}", "NaN or infinite value");
        if (ids != null && ids.Count != rows) throw new DataFormatException(path, 0, "shape", $"{rows} rows but {ids.Count} item ids");
        var keys = ids ?? Enumerable.Range(0, rows).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        return new ItemVectors(keys, values, dim);
    }

    static string Between(string s, string start, string end)
    {
        int a = s.IndexOf(start, StringComparison.Ordinal);
        if (a < 0) return "";
        a += start.Length;
        int b = s.IndexOf(end, a, StringComparison.Ordinal);
        return b < 0 ? s[a..] : s[a..b];
    }
}
