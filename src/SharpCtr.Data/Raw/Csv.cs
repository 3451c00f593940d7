namespace SharpCtr.Data.Raw;

/// <summary>Splits one CSV line honouring double quotes ("a, b" and "" escapes).</summary>
public static class Csv
{
    public static List<string> SplitQuoted(string line, char separator)
    {
        var fields = new List<string>();
        var sb = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else sb.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == separator) { fields.Add(sb.ToString()); sb.Clear(); }
            else if (c != '\r') sb.Append(c);
        }
        fields.Add(sb.ToString());
        return fields;
    }
}
