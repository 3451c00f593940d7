using System.Globalization;
using System.Text;
using System.Text.Json;
using SharpCtr.Data.Encoded;

namespace SharpCtr.Data;

/// <summary>A field as a model sees it: kind, number of ids (embedding rows) and width.</summary>
public sealed record FieldStats(string Name, string Kind, string Source, int Ids, int Width);

public sealed record SplitStats(string Name, int Rows, int Positives, int Users, double PositiveRate, double AvgSequenceLength);

/// <summary>Counts that describe an encoded data set (what `sharpctr data stats` prints).</summary>
public sealed record DatasetStats(string Name, int Users, int Items, int Interactions, int Positives, int Samples, double AvgSequenceLength,
                                  IReadOnlyList<SplitStats> Splits, IReadOnlyDictionary<string, int> Skipped, IReadOnlyList<FieldStats> Fields)
{
    public static DatasetStats Compute(EncodedDataset d)
    {
        var splits = new List<SplitStats>();
        var seqLen = d.Sequence?.SampleLength;
        double allSeq = 0;
        for (byte s = 0; s < 3; s++)
        {
            int rows = 0, pos = 0;
            double seq = 0;
            var users = new HashSet<int>();
            for (int i = 0; i < d.Count; i++)
            {
                if (d.Split[i] != s) continue;
                rows++;
                if (d.Labels[i] == 1f) pos++;
                users.Add(d.User[i]);
                if (seqLen != null) seq += seqLen[i];
            }
            allSeq += seq;
            splits.Add(new SplitStats(Encoded.Splits.Names[s], rows, pos, users.Count, rows == 0 ? 0 : (double)pos / rows, rows == 0 ? 0 : seq / rows));
        }
        var fields = d.Fields.Select(f => new FieldStats(f.Name, f.Kind, f.Source, f.VocabSize, f.Width)).ToList();
        if (d.Sequence is { } sq)
        {
            fields.Add(new FieldStats(sq.Name, "sequence", sq.Source, sq.VocabSize, sq.MaxLen));
            foreach (var side in sq.Sides) fields.Add(new FieldStats($"{sq.Name}.{side.Name}", "sequence side", side.Source, side.VocabSize, side.Width));
        }
        return new DatasetStats(d.Name, d.UserCount, d.ItemCount, d.Interactions, d.Positives, d.Count, d.Count == 0 ? 0 : allSeq / d.Count, splits, d.Skipped, fields);
    }

    /// <summary>One JSON object: users, items, interactions, positives, splits{train,valid,test} …</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("name", Name);
            w.WriteNumber("users", Users);
            w.WriteNumber("items", Items);
            w.WriteNumber("interactions", Interactions);
            w.WriteNumber("positives", Positives);
            w.WriteNumber("samples", Samples);
            w.WriteNumber("avg_sequence_length", Math.Round(AvgSequenceLength, 4));
            w.WriteStartObject("splits");
            foreach (var s in Splits)
            {
                w.WriteStartObject(s.Name);
                w.WriteNumber("rows", s.Rows);
                w.WriteNumber("positives", s.Positives);
                w.WriteNumber("users", s.Users);
                w.WriteNumber("positive_rate", Math.Round(s.PositiveRate, 4));
                w.WriteNumber("avg_sequence_length", Math.Round(s.AvgSequenceLength, 4));
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteStartObject("fields");
            foreach (var f in Fields)
            {
                w.WriteStartObject(f.Name);
                w.WriteString("kind", f.Kind);
                w.WriteString("source", f.Source);
                w.WriteNumber("ids", f.Ids);
                w.WriteNumber("width", f.Width);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteStartObject("skipped");
            foreach (var kv in Skipped) w.WriteNumber(kv.Key, kv.Value);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"{Name}: {Users:N0} users, {Items:N0} items, {Interactions:N0} interactions, {Positives:N0} positives, {Samples:N0} samples, avg sequence length {AvgSequenceLength:F2}");
        sb.AppendLine("split        rows  positives  users  pos.rate  avg.seq");
        foreach (var s in Splits)
            sb.AppendLine(c, $"{s.Name,-6} {s.Rows,10:N0} {s.Positives,10:N0} {s.Users,6:N0}  {s.PositiveRate,8:F4}  {s.AvgSequenceLength,7:F2}");
        sb.AppendLine("field                kind           source                 ids  width");
        foreach (var f in Fields) sb.AppendLine(c, $"{f.Name,-20} {f.Kind,-14} {f.Source,-20} {f.Ids,6:N0} {f.Width,6}");
        foreach (var kv in Skipped) sb.AppendLine(c, $"skipped: {kv.Value:N0} lines ({kv.Key})");
        return sb.ToString();
    }
}
