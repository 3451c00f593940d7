using System.Text;
using SharpCtr.Data;
using SharpCtr.Data.Encoded;

namespace SharpCtr.Training.Tests.Models;

/// <summary>
/// A small MovieLens-format data set with a planted signal: each user loves one genre; a rating
/// is high when the movie has that genre (and, more weakly, when the movie is one of the
/// "good" ones), low otherwise, with noise. A user's history of positives therefore reveals the
/// loved genre, and item ids carry a learnable bias. With <c>multiGenre</c> a movie may have a
/// second genre (either counts as the loved one) and the history keeps all of an item's genres
/// (a multi-valued side field) instead of the first.
/// </summary>
public sealed class PlantedData : IDisposable
{
    public string Root { get; }
    public EncodedDataset Dataset { get; }
    public string ExperimentPath { get; }

    static readonly string[] Genres = ["Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi"];

    public PlantedData(int users = 400, int movies = 120, int perUser = 50, int seed = 5, bool multiGenre = false)
    {
        Root = Path.Combine(Path.GetTempPath(), "sharpctr-planted-" + Guid.NewGuid().ToString("N"));
        var dir = Path.Combine(Root, "ml");
        Directory.CreateDirectory(dir);
        var rng = new Random(seed);
        var movieGenre = new int[movies + 1];
        var secondGenre = new int[movies + 1];
        var good = new bool[movies + 1];
        var sb = new StringBuilder();
        for (int m = 1; m <= movies; m++)
        {
            movieGenre[m] = rng.Next(Genres.Length);
            secondGenre[m] = multiGenre && rng.NextDouble() < 0.6 ? (movieGenre[m] + 1 + rng.Next(Genres.Length - 1)) % Genres.Length : -1;
            good[m] = rng.NextDouble() < 0.3;
            string genres = secondGenre[m] < 0 ? Genres[movieGenre[m]] : Genres[movieGenre[m]] + "|" + Genres[secondGenre[m]];
            sb.Append($"{m}::Movie {m} ({1980 + m % 20})::{genres}\n");
        }
        File.WriteAllText(Path.Combine(dir, "movies.dat"), sb.ToString(), Encoding.Latin1);
        sb.Clear();
        var loved = new int[users + 1];
        for (int u = 1; u <= users; u++)
        {
            loved[u] = rng.Next(Genres.Length);
            sb.Append($"{u}::{(u % 2 == 0 ? "M" : "F")}::{(u % 5) * 10 + 18}::{u % 7}::0000{u % 10}\n");
        }
        File.WriteAllText(Path.Combine(dir, "users.dat"), sb.ToString());
        sb.Clear();
        for (int u = 1; u <= users; u++)
        {
            long ts = 978300000 + u * 1000;
            foreach (int m in Enumerable.Range(1, movies).OrderBy(_ => rng.Next()).Take(perUser))
            {
                double p = (movieGenre[m] == loved[u] || secondGenre[m] == loved[u] ? 0.75 : 0.2) + (good[m] ? 0.2 : -0.1);
                int rating = rng.NextDouble() < p ? 4 + rng.Next(2) : 1 + rng.Next(2);
                sb.Append($"{u}::{m}::{rating}::{ts++}\n");
            }
        }
        File.WriteAllText(Path.Combine(dir, "ratings.dat"), sb.ToString());
        var dataYaml = Path.Combine(Root, "data.yaml");
        string historyGenre = multiGenre ? "{name: genre, kind: multi, source: item.genre, max_len: 3}" : "{name: genre, source: item.genre}";
        File.WriteAllText(dataYaml, $$"""
            name: planted
            source: {format: movielens, path: ml, ratings: ratings.dat}
            label: {kind: rating, positive_above: 3, negative_below: 3}
            split: {kind: ratio_per_user, ratios: [0.8, 0.1, 0.1]}
            fields:
              - {name: user_id, source: user_id}
              - {name: gender, source: user.gender}
              - {name: age, source: user.age}
              - {name: item_id, source: item_id}
              - {name: genre, kind: multi, source: item.genre, max_len: 3}
            sequence:
              name: item_seq
              source: item_id
              max_len: 20
              from: positives
              side:
                - {{historyGenre}}
            """);
        ExperimentPath = Path.Combine(Root, "experiment.yaml");
        File.WriteAllText(ExperimentPath, """
            data: {include: data.yaml}
            model: {name: lr}
            train: {epochs: 4, batch_size: 256, learning_rate: 0.01, patience: 2, seed: 3, eval_batch_size: 1000}
            """);
        var cfg = DataConfig.Load(dataYaml);
        Dataset = DatasetLoader.Load(cfg, Root, cacheDir: Path.Combine(Root, "cache")).Dataset;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
