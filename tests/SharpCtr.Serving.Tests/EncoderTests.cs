using SharpCtr.Data.Batching;
using SharpCtr.Serving.Bundles;
using SharpCtr.Serving.Scoring;

namespace SharpCtr.Serving.Tests;

/// <summary>The pre-encoded <see cref="RequestEncoder"/> against the value-by-value <see cref="ReferenceEncoder"/> on random requests.</summary>
[Collection(ModelFamilyCollection.Name)]
public sealed class EncoderTests(ModelFamilyFixture fx)
{
    [Theory]
    [InlineData("genci", 1)]
    [InlineData("genci", 2)]
    [InlineData("cdp", 3)]
    [InlineData("cdp", 4)]
    public void EncodingEqualsTheReference(string name, int seed)
    {
        var bundle = ModelBundle.Load(name == "genci" ? fx.GenCi.Bundle : fx.Cdp.Bundle);
        var rng = new Random(seed);
        var known = bundle.Encoder.KnownItems.Keys.ToArray();
        var tokens = bundle.Schema.Vocabularies.ToDictionary(v => v.Source, v => v.Tokens.ToArray());
        string Value(string source) => tokens[source].Length > 0 && rng.Next(5) > 0 ? tokens[source][rng.Next(tokens[source].Length)] : "unseen-" + rng.Next(3);
        string Item() => rng.Next(6) == 0 ? "unknown-" + rng.Next(100) : known[rng.Next(known.Length)];
        var sources = bundle.Schema.Fields.Select(f => f.Source).ToList();
        // (name in the request, source it feeds) for each place a request can carry a value
        List<(string Key, string Source)> Under(string prefix) =>
            sources.Where(s => s.StartsWith(prefix, StringComparison.Ordinal)).Select(s => (s[prefix.Length..], s)).ToList();
        var itemKeys = Under("item.").Concat(Under("row.")).ToList();                       // genre, position, context.hour …
        var contextKeys = Under("row.context.").Concat(Under("user.")).Concat(Under("row.")).ToList();
        var sceneKeys = Under("row.scene.");
        Dictionary<string, string[]> Attributes(List<(string Key, string Source)> keys)
        {
            var d = new Dictionary<string, string[]>(StringComparer.Ordinal);
            foreach (var (key, src) in keys)
                if (rng.Next(3) == 0) d[key] = Enumerable.Range(0, rng.Next(4)).Select(_ => Value(src)).ToArray();
            return d;
        }
        for (int trial = 0; trial < 30; trial++)
        {
            var candidates = Enumerable.Range(0, 1 + rng.Next(17)).Select(_ => new ItemInput(Item(), rng.Next(4) == 0 ? Attributes(itemKeys) : new())).ToList();
            var input = new ScoreInput
            {
                UserId = rng.Next(4) == 0 ? "unknown-user" : Value("user_id"),
                Query = rng.Next(2) == 0 && tokens.ContainsKey("row.query") ? $"{Value("row.query")} {Value("row.query")}, {Value("row.query")}" : null,
                Context = Attributes(contextKeys),
                Scene = rng.Next(2) == 0 ? Attributes(sceneKeys) : new(),
                Candidates = candidates,
                History = Enumerable.Range(0, rng.Next(14)).Select(_ => new ItemInput(Item(), rng.Next(3) == 0 ? Attributes(Under("item.")) : new())).ToList(),
            };
            AssertSameBatch(ReferenceEncoder.Encode(bundle, input, 1_700_000_000 + trial * 3_600), bundle.Encoder.Encode(input, 1_700_000_000 + trial * 3_600), $"{name} trial {trial}");
        }
    }

    static void AssertSameBatch(Batch expected, Batch actual, string what)
    {
        foreach (var (name, ids) in expected.Categorical) Assert.True(ids.SequenceEqual(actual.Ids(name)), $"{what}: field {name}");
        foreach (var (name, m) in expected.Multi)
        {
            Assert.True(m.Lengths.SequenceEqual(actual.MultiField(name).Lengths), $"{what}: field {name} lengths");
            Assert.True(m.Ids.SequenceEqual(actual.MultiField(name).Ids), $"{what}: field {name} ids");
        }
        foreach (var (name, s) in expected.Sequences)
        {
            var a = actual.Sequence(name);
            Assert.True(s.Lengths.SequenceEqual(a.Lengths), $"{what}: sequence lengths");
            Assert.True(s.Items.SequenceEqual(a.Items), $"{what}: sequence items");
            foreach (var (side, ids) in s.Sides) Assert.True(ids.SequenceEqual(a.Side(side)), $"{what}: side {side}");
        }
    }
}
