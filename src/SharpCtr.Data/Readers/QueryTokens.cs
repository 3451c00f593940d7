namespace SharpCtr.Data.Readers;

/// <summary>Query text → tokens: lower-case words (letters and digits), everything else separates.</summary>
public static class QueryTokens
{
    public static string[] FromText(string text)
    {
        var tokens = new List<string>();
        int start = -1;
        for (int i = 0; i <= text.Length; i++)
        {
            bool word = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (word && start < 0) start = i;
            else if (!word && start >= 0) { tokens.Add(text[start..i].ToLowerInvariant()); start = -1; }
        }
        return tokens.ToArray();
    }
}
