using System.Net.Http.Json;
using System.Text.Json;
using SharpCtr.Data.Encoded;

namespace SharpCtr.Serving.Tests;

/// <summary>Score requests rebuilt from encoded samples: the raw ids the vocabularies map back to.</summary>
static class SampleRequests
{
    public static string User(EncodedDataset d, int sample) => d.Vocabulary("user_id").Token(d.Field("user_id").Ids[sample])!;
    public static string Item(EncodedDataset d, int sample) => d.Vocabulary("item_id").Token(d.Field("item_id").Ids[sample])!;

    public static string[] History(EncodedDataset d, int sample)
    {
        var s = d.Sequence!;
        var vocab = d.Vocabulary(s.Source);
        var tokens = new string[s.SampleLength[sample]];
        for (int k = 0; k < tokens.Length; k++) tokens[k] = vocab.Token(s.Items[s.SampleStart[sample] + k])!;
        return tokens;
    }

    public static object Body(string user, IEnumerable<string> items, IEnumerable<string>? history = null, string? model = null) => new
    {
        user_id = user,
        model,
        candidates = items.Select(i => new { item_id = i }).ToArray(),
        history = history?.Select(i => new { item_id = i }).ToArray(),
    };

    public static async Task<(string Version, float[] Scores, int HistoryLength)> ScoreAsync(HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("/v1/score", body, new JsonSerializerOptions { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        using var doc = JsonDocument.Parse(text);
        var root = doc.RootElement;
        var scores = root.GetProperty("scores").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        return (root.GetProperty("version").GetString()!, scores, root.GetProperty("history_length").GetInt32());
    }
}
