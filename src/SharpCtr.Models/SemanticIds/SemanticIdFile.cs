using System.Text.Json;
using SharpCtr.Tensors.IO;

namespace SharpCtr.Models.SemanticIds;

/// <summary>Writes semantic IDs as the authors' JSON, <c>{"item": [c1, c2, c3, collision], …}</c>, atomically. SemanticIdReader reads it back.</summary>
public static class SemanticIdFile
{
    /// <param name="codes">[n × width] row-major, in the order of <paramref name="keys"/>.</param>
    public static void Write(string path, IReadOnlyList<string> keys, int[] codes, int width)
    {
        AtomicFile.Write(path, s =>
        {
            using var w = new Utf8JsonWriter(s);
            w.WriteStartObject();
            for (int i = 0; i < keys.Count; i++)
            {
                w.WriteStartArray(keys[i]);
                for (int l = 0; l < width; l++) w.WriteNumberValue(codes[i * width + l]);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        });
    }
}
