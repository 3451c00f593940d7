using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using SharpCtr.Data.Schema;
using SharpCtr.Tensors.IO;

namespace SharpCtr.Data.Encoded;

/// <summary>
/// The encoded data set as one binary file of columns: written atomically (temporary file then
/// rename) and read back with a single read. Its name carries a hash of the raw files' bytes and
/// of the resolved config, so a change to either selects a new file (and rebuilds it).
/// </summary>
public static class DatasetCache
{
    const uint Magic = 0x52544353; // "SCTR"
    const int Version = 1;

    /// <summary>SHA-256 over the format version, the resolved config text and each raw file's name and bytes.</summary>
    public static string Key(IEnumerable<string> rawFiles, string resolvedConfig)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes($"v{Version}\n{resolvedConfig}\n"));
        var buffer = new byte[1 << 20];
        foreach (var f in rawFiles.OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(f) + "\n"));
            using var s = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            int n;
            while ((n = s.Read(buffer, 0, buffer.Length)) > 0) sha.AppendData(buffer, 0, n);
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }

    public static void Write(string path, EncodedDataset d, string key) =>
        AtomicFile.Write(path, stream =>
        {
            using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            w.Write(Magic); w.Write(Version); w.Write(key);
            w.Write(d.Name); w.Write(d.Count); w.Write(d.UserCount); w.Write(d.ItemCount); w.Write(d.Interactions); w.Write(d.Positives);
            Arr(w, d.Labels); Arr(w, d.User); Arr(w, d.Group); Arr(w, d.Split);
            w.Write(d.Skipped.Count);
            foreach (var kv in d.Skipped) { w.Write(kv.Key); w.Write(kv.Value); }
            w.Write(d.Vocabularies.Count);
            foreach (var v in d.Vocabularies)
            {
                w.Write(v.Source); w.Write(v.MinCount); w.Write(v.HashBuckets); w.Write(v.Tokens.Count);
                foreach (var t in v.Tokens) w.Write(t);
            }
            w.Write(d.Fields.Count);
            foreach (var f in d.Fields)
            {
                w.Write(f.Name); w.Write(f.Kind); w.Write(f.Source); w.Write(f.VocabSize); w.Write(f.Width);
                Arr(w, f.Ids); Arr(w, f.Offsets); Arr(w, f.Dense);
            }
            w.Write(d.Sequence != null);
            if (d.Sequence is { } s)
            {
                w.Write(s.Name); w.Write(s.Source); w.Write(s.MaxLen); w.Write(s.VocabSize);
                Arr(w, s.UserStart); Arr(w, s.Items); Arr(w, s.SampleStart); Arr(w, s.SampleLength);
                w.Write(s.Sides.Count);
                foreach (var side in s.Sides) { w.Write(side.Name); w.Write(side.Source); w.Write(side.VocabSize); Arr(w, side.Ids); }
            }
            w.Write(Magic); // trailer: a truncated file fails to load instead of loading garbage
        });

    /// <summary>The cached data set, or null when the file is absent or was written for another key/version.</summary>
    public static EncodedDataset? TryRead(string path, string key)
    {
        if (!File.Exists(path)) return null;
        var bytes = File.ReadAllBytes(path);
        using var r = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
        try
        {
            if (r.ReadUInt32() != Magic || r.ReadInt32() != Version || r.ReadString() != key) return null;
            var name = r.ReadString();
            int count = r.ReadInt32(), users = r.ReadInt32(), items = r.ReadInt32(), interactions = r.ReadInt32(), positives = r.ReadInt32();
            var labels = Arr<float>(r); var user = Arr<int>(r); var group = Arr<int>(r); var split = Arr<byte>(r);
            var skipped = new Dictionary<string, int>();
            for (int i = r.ReadInt32(); i > 0; i--) skipped[r.ReadString()] = r.ReadInt32();
            var vocabs = new List<Vocabulary>();
            for (int i = r.ReadInt32(); i > 0; i--)
            {
                var source = r.ReadString(); int minCount = r.ReadInt32(), buckets = r.ReadInt32();
                var tokens = new string[r.ReadInt32()];
                for (int t = 0; t < tokens.Length; t++) tokens[t] = r.ReadString();
                vocabs.Add(new Vocabulary(source, tokens, minCount, buckets));
            }
            var fields = new List<EncodedField>();
            for (int i = r.ReadInt32(); i > 0; i--)
                fields.Add(new EncodedField
                {
                    Name = r.ReadString(), Kind = r.ReadString(), Source = r.ReadString(), VocabSize = r.ReadInt32(), Width = r.ReadInt32(),
                    Ids = Arr<int>(r), Offsets = Arr<int>(r), Dense = Arr<float>(r),
                });
            EncodedSequence? seq = null;
            if (r.ReadBoolean())
            {
                var sName = r.ReadString(); var sSource = r.ReadString(); int maxLen = r.ReadInt32(), vsize = r.ReadInt32();
                var userStart = Arr<int>(r); var seqItems = Arr<int>(r); var start = Arr<int>(r); var length = Arr<int>(r);
                var sides = new List<EncodedSequenceSide>();
                for (int i = r.ReadInt32(); i > 0; i--)
                    sides.Add(new EncodedSequenceSide { Name = r.ReadString(), Source = r.ReadString(), VocabSize = r.ReadInt32(), Ids = Arr<int>(r) });
                seq = new EncodedSequence { Name = sName, Source = sSource, MaxLen = maxLen, VocabSize = vsize, UserStart = userStart, Items = seqItems, SampleStart = start, SampleLength = length, Sides = sides };
            }
            if (r.ReadUInt32() != Magic) return null;
            return new EncodedDataset
            {
                Name = name, Count = count, Labels = labels, User = user, Group = group, Split = split, Fields = fields, Sequence = seq,
                Vocabularies = vocabs, UserCount = users, ItemCount = items, Interactions = interactions, Positives = positives, Skipped = skipped,
            };
        }
        catch (EndOfStreamException) { return null; }
    }

    static void Arr<T>(BinaryWriter w, T[] a) where T : unmanaged
    {
        w.Write(a.Length);
        w.Write(MemoryMarshal.AsBytes(a.AsSpan()));
    }

    static T[] Arr<T>(BinaryReader r) where T : unmanaged
    {
        int n = r.ReadInt32();
        var a = new T[n];
        var dst = MemoryMarshal.AsBytes(a.AsSpan());
        if (r.Read(dst) != dst.Length) throw new EndOfStreamException();
        return a;
    }
}
