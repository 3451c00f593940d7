using SharpCtr.Data;
using SharpCtr.Data.Config;
using SharpCtr.Data.Readers;
using SharpCtr.Models.SemanticIds;
using SharpCtr.Tensors;

namespace SharpCtr.Training.Tests.SemanticIds;

public class TokenizerTests
{
    /// <summary>Planted item vectors: 8 well-separated clusters of 40 items in 16 dimensions, unit length.</summary>
    static ItemVectors Clusters(int clusters = 8, int perCluster = 40, int dim = 16, int seed = 7)
    {
        var rng = new Rng((ulong)seed);
        var centres = new float[clusters * dim];
        for (int i = 0; i < centres.Length; i++) centres[i] = (float)rng.NextNormal();
        int n = clusters * perCluster;
        var values = new float[n * dim];
        var keys = new string[n];
        for (int i = 0; i < n; i++)
        {
            int c = i % clusters;
            keys[i] = $"item{i}";
            double norm = 0;
            for (int j = 0; j < dim; j++)
            {
                float v = centres[c * dim + j] + 0.15f * (float)rng.NextNormal();
                values[i * dim + j] = v;
                norm += v * v;
            }
            for (int j = 0; j < dim; j++) values[i * dim + j] /= (float)Math.Sqrt(norm);
        }
        return new ItemVectors(keys, values, dim);
    }

    static readonly RqVaeOptions Small = new([32], LatentDim: 8, Levels: 3, CodebookSize: 16);
    static readonly RqVaeTrainOptions Quick = new(Epochs: 40, BatchSize: 64, LearningRate: 3e-3f, Seed: 1);

    [Fact]
    public void Ids_are_unique_reconstruction_beats_chance_and_level_one_separates_the_clusters()
    {
        var v = Clusters();
        var r = Tokenizer.Tokenize(v, Small, Quick);
        Assert.True(r.Stats.UniqueIds);
        Assert.Equal(v.Keys.Count, r.Stats.Items);
        Assert.True(r.Training.ReconstructionMse < 0.3 * r.Training.ChanceMse,
            $"reconstruction {r.Training.ReconstructionMse} vs chance {r.Training.ChanceMse}");
        // each level-1 code holds items of one planted cluster
        var clusterOfCode = new Dictionary<int, int>();
        int pure = 0;
        for (int i = 0; i < v.Keys.Count; i++)
        {
            int code = r.Codes[i * 4];
            if (!clusterOfCode.TryGetValue(code, out var c)) clusterOfCode[code] = c = i % 8;
            if (c == i % 8) pure++;
        }
        Assert.True(pure >= 0.95 * v.Keys.Count, $"only {pure} of {v.Keys.Count} items share their level-1 code with their own cluster");
    }

    [Fact]
    public void Gradient_codebook_updates_also_learn()
    {
        var r = Tokenizer.Tokenize(Clusters(), Small with { EmaUpdates = false }, Quick);
        Assert.True(r.Stats.UniqueIds);
        Assert.True(r.Training.ReconstructionMse < 0.5 * r.Training.ChanceMse);
        Assert.True(r.Training.LastLoss.Codebook > 0);
    }

    [Fact]
    public void Same_seed_writes_the_same_file()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sharpctr-tok-" + Guid.NewGuid().ToString("N"));
        try
        {
            var v = Clusters();
            var a = Tokenizer.Tokenize(v, Small, Quick with { Epochs = 10 });
            var b = Tokenizer.Tokenize(v, Small, Quick with { Epochs = 10 });
            SemanticIdFile.Write(Path.Combine(dir, "a.json"), a.Keys, a.Codes, 4);
            SemanticIdFile.Write(Path.Combine(dir, "b.json"), b.Keys, b.Codes, 4);
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "a.json")), File.ReadAllBytes(Path.Combine(dir, "b.json")));
            var c = Tokenizer.Tokenize(v, Small, Quick with { Epochs = 10, Seed = 2 });
            Assert.NotEqual(a.Codes, c.Codes);
            var back = SemanticIdReader.Read(Path.Combine(dir, "a.json"));
            Assert.Equal(a.Codes.AsSpan(0, 4).ToArray(), back[a.Keys[0]]);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void KMeans_finds_planted_centres_and_plus_plus_seeds_are_distinct()
    {
        var rng = new Rng(4);
        float[][] centres = [[0, 0], [10, 0], [0, 10]];
        int n = 300;
        var x = new float[n * 2];
        for (int i = 0; i < n; i++)
        {
            x[2 * i] = centres[i % 3][0] + 0.3f * (float)rng.NextNormal();
            x[2 * i + 1] = centres[i % 3][1] + 0.3f * (float)rng.NextNormal();
        }
        var seeds = KMeans.PlusPlusSeeds(x, n, 2, 3, new Rng(1));
        // with D² sampling the three seeds land in three different blobs
        var blobs = new HashSet<int>();
        for (int k = 0; k < 3; k++) blobs.Add(NearestCentre(centres, seeds[2 * k], seeds[2 * k + 1]));
        Assert.Equal(3, blobs.Count);
        var c = KMeans.Fit(x, n, 2, 3, new Rng(1));
        foreach (var centre in centres)
        {
            double best = double.MaxValue;
            for (int k = 0; k < 3; k++) best = Math.Min(best, KMeans.SquaredDistance(centre, c.AsSpan(2 * k, 2)));
            Assert.True(best < 0.05, $"no centroid near ({centre[0]}, {centre[1]})");
        }
        Assert.Equal(c, KMeans.Fit(x, n, 2, 3, new Rng(1)));
    }

    static int NearestCentre(float[][] centres, float a, float b)
    {
        int best = 0;
        for (int k = 1; k < centres.Length; k++)
            if (KMeans.SquaredDistance(centres[k], [a, b]) < KMeans.SquaredDistance(centres[best], [a, b])) best = k;
        return best;
    }

    static Tensor Buffer(ResidualCodebooks cb, string name) => cb.Buffers().First(b => b.Name == name).Value;

    [Fact]
    public void Ema_update_matches_a_hand_computed_step()
    {
        var cb = new ResidualCodebooks(levels: 1, size: 2, dim: 2, ema: true, decay: 0.5f);
        float[] start = [0, 0, 10, 10];
        start.CopyTo(Buffer(cb, "codebook.0").Data, 0);
        start.CopyTo(Buffer(cb, "ema_sum.0").Data, 0);   // counts start at 1, so e = sum / count = start
        var q = cb.Quantize([1, 1, 3, 3, 9, 9], 3);
        Assert.Equal(new[] { 0, 0, 1 }, q.Codes);
        cb.EmaUpdate(0, q);
        // N = 0.5·1 + 0.5·[2, 1] = [1.5, 1]; m = 0.5·[(0,0), (10,10)] + 0.5·[(4,4), (9,9)] = [(2,2), (9.5,9.5)]
        Assert.Equal(new[] { 1.5f, 1f }, Buffer(cb, "ema_count.0").Data);
        var e = Buffer(cb, "codebook.0").Data;
        Assert.Equal(2 / 1.5f, e[0], 1e-4);
        Assert.Equal(9.5f, e[2], 1e-4);
    }

    [Fact]
    public void Dead_codes_are_reseeded_from_batch_residuals()
    {
        var cb = new ResidualCodebooks(levels: 1, size: 3, dim: 1, ema: true, decay: 0.9f);
        float[] start = [0, 100, 200];
        start.CopyTo(Buffer(cb, "codebook.0").Data, 0);
        var q = cb.Quantize([1, 2, -1], 3);
        int reset = cb.ResetDeadCodes(0, [true, false, false], q, new Rng(1));
        Assert.Equal(2, reset);
        var e = Buffer(cb, "codebook.0").Data;
        Assert.Equal(0f, e[0]);
        Assert.Contains(e[1], new[] { 1f, 2f, -1f });
        Assert.Contains(e[2], new[] { 1f, 2f, -1f });
    }

    [Fact]
    public void Collision_digit_numbers_shared_codes_by_latent_error_then_key()
    {
        int[] codes = [1, 2, 1, 2, 3, 4, 1, 2];
        var digits = CollisionDigits.Assign(codes, 2, ["a", "b", "c", "d"], [0.5f, 0.1f, 0.2f, 0.5f]);
        Assert.Equal(new[] { 1, 0, 0, 2 }, digits);
        Assert.Equal(new[] { 2, 1, 1, 3 }, CollisionDigits.Assign(codes, 2, ["a", "b", "c", "d"], [0.5f, 0.1f, 0.2f, 0.5f], start: 1));
    }

    [Fact]
    public void Stats_count_usage_collisions_and_uniqueness()
    {
        var ids = new Dictionary<string, int[]>
        {
            ["a"] = [1, 2, 0], ["b"] = [1, 2, 1], ["c"] = [1, 3, 0], ["d"] = [4, 2, 0],
        };
        var s = SemanticIdStats.Of(ids);
        Assert.Equal(new[] { 2, 2 }, s.CodesUsed);
        Assert.Equal(3, s.DistinctPrefixes);
        Assert.Equal(0.5, s.CollisionRate);
        Assert.Equal(1, s.MaxCollisionDigit);
        Assert.True(s.UniqueIds);
        ids["b"] = [1, 2, 0];
        Assert.False(SemanticIdStats.Of(ids).UniqueIds);
    }

    [Fact]
    public void Bad_config_key_names_file_line_and_the_closest_key()
    {
        var e = Assert.Throws<ConfigException>(() => TokenizerConfig.Parse("vectors: {source: file, file: v.tsv}\nrqvae:\n  epoch: 3\n"));
        Assert.Contains("<tokenizer config>:3", e.Message);
        Assert.Contains("'epoch'", e.Message);
        Assert.Contains("did you mean 'epochs'", e.Message);
        var missing = Assert.Throws<ConfigException>(() => TokenizerConfig.Parse("vectors: {source: file}\n"));
        Assert.Contains("vectors.file", missing.Message);
        var choice = Assert.Throws<ConfigException>(() => TokenizerConfig.Parse("vectors: {source: file, file: v.tsv}\nrqvae: {codebook_update: sgd}\n"));
        Assert.Contains("codebook_update", choice.Message);
    }

    [Fact]
    public void Tokenize_from_a_vector_file_writes_the_semantic_id_json()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sharpctr-tok-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var v = Clusters(clusters: 4, perCluster: 10, dim: 6);
            var tsv = string.Join("\n", v.Keys.Select((k, i) => k + "\t" + string.Join(" ", v.Of(i).ToArray().Select(x => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))));
            File.WriteAllText(Path.Combine(dir, "v.tsv"), tsv + "\n");
            var outPath = Path.Combine(dir, "ids.json");
            var cfg = TokenizerConfig.Parse($"vectors: {{source: file, file: '{Path.Combine(dir, "v.tsv")}'}}\n" +
                                            $"rqvae: {{hidden: [16], latent_dim: 4, codebook_size: 8, epochs: 5, batch_size: 16}}\ncollision_start: 1\nout: '{outPath}'\n");
            var r = Tokenizer.Run(cfg, dir);
            var ids = SemanticIdReader.Read(outPath);
            Assert.Equal(40, ids.Count);
            Assert.All(ids.Values, c => { Assert.Equal(4, c.Length); Assert.True(c[3] >= 1); Assert.InRange(c[0], 0, 7); });
            Assert.True(r.Stats.UniqueIds);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Semantic_id_paths_with_dot_slash_are_taken_from_the_working_directory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sharpctr-root-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "under-root.json"), "{}");
            Assert.Equal(Path.Combine(dir, "under-root.json"), DataRoot.LocateFile(dir, "under-root.json", "semantic_ids"));
            var abs = Path.Combine(dir, "under-root.json");
            Assert.Equal(abs, DataRoot.LocateFile("/nonexistent-root", abs, "semantic_ids"));
            var rel = "./" + Path.GetRelativePath(Directory.GetCurrentDirectory(), abs);
            Assert.Equal(abs, DataRoot.LocateFile("/nonexistent-root", rel, "semantic_ids"));
            var e = Assert.Throws<DataSetMissingException>(() => DataRoot.LocateFile(dir, "./no/such/ids.json", "semantic_ids"));
            Assert.Contains("working directory", e.Message);
            Assert.Contains("sharpctr tokenize", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
