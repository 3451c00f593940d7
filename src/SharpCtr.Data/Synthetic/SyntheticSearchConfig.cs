using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace SharpCtr.Data.Synthetic;

/// <summary>Reads a generator YAML (configs/synthetic-search/generator-*.yaml) strictly.</summary>
public static class SyntheticSearchConfig
{
    public static SyntheticSearchOptions Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: generator config not found", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses YAML text; <paramref name="source"/> names it in errors.</summary>
    public static SyntheticSearchOptions Parse(string yaml, string source)
    {
        // No IgnoreUnmatchedProperties: a misspelt knob must fail, not silently keep its default.
        var deserializer = new DeserializerBuilder()
            .WithNamingConvention(UnderscoredNamingConvention.Instance)
            .Build();
        SyntheticSearchOptions? options;
        try
        {
            options = deserializer.Deserialize<SyntheticSearchOptions>(yaml);
        }
        catch (YamlException e)
        {
            var why = e.InnerException?.Message ?? e.Message;
            throw new InvalidDataException(
                $"{source}: line {e.Start.Line}, column {e.Start.Column}: field '{FieldAt(yaml, e.Start)}': {why}", e);
        }
        if (options is null) throw new InvalidDataException($"{source}: line 1: empty generator config");
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: line {LineOf(yaml, e.Message)}: {e.Message}", e);
        }
        return options;
    }

    // The key of the mapping entry the parser stopped at, for the error message.
    static string FieldAt(string yaml, Mark mark)
    {
        var lines = yaml.Split('\n');
        if (mark.Line < 1 || mark.Line > lines.Length) return "?";
        var line = lines[mark.Line - 1];
        var colon = line.IndexOf(':');
        return colon > 0 ? line[..colon].Trim() : line.Trim();
    }

    // Validation errors name the key as `field 'x'`; point at the line that sets it (or 0 when
    // the value is a default that the file does not mention).
    static int LineOf(string yaml, string message)
    {
        var start = message.IndexOf('\'');
        var end = start >= 0 ? message.IndexOf('\'', start + 1) : -1;
        if (end <= start) return 0;
        var key = message[(start + 1)..end];
        var lines = yaml.Split('\n');
        for (var i = 0; i < lines.Length; i++)
            if (lines[i].TrimStart().StartsWith(key + ":", StringComparison.Ordinal)) return i + 1;
        return 0;
    }
}
