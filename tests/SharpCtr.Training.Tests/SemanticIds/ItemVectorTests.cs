using SharpCtr.Data.Raw;
using SharpCtr.Data.Vectors;
using SharpCtr.Tensors;

namespace SharpCtr.Training.Tests.SemanticIds;

public class ItemVectorTests
{
    [Fact]
    public void TfIdf_matches_hand_computed_smoothed_idf_and_raw_counts()
    {
        var docs = new[] { new[] { "a", "b" }, new[] { "a" }, new[] { "a", "c", "c" } };
        var t = TfIdf.Fit(docs);
        Assert.Equal(new[] { "a", "b", "c" }, t.Vocabulary);
        double rare = Math.Log(4.0 / 2.0) + 1;   // ln((1+n)/(1+df)) + 1 with n = 3, df = 1
        Assert.Equal(1.0, t.Idf[0], 1e-12);           // in every document: ln(4/4) + 1
        Assert.Equal(rare, t.Idf[1], 1e-12);
        var m = t.Matrix;
        Assert.Equal(new[] { 0, 2, 3, 5 }, m.RowStart);
        Assert.Equal(new[] { 0, 1, 0, 0, 2 }, m.Col);
        Assert.Equal(new[] { 1.0, rare, 1.0, 1.0, 2 * rare }, m.Value);

        var sub = TfIdf.Fit(docs, minDocumentFrequency: 1, sublinearTf: true).Matrix;
        Assert.Equal((1 + Math.Log(2)) * rare, sub.Value[4], 1e-12);
        var pruned = TfIdf.Fit(docs, minDocumentFrequency: 2);
        Assert.Equal(new[] { "a" }, pruned.Vocabulary);
    }

    [Fact]
    public void Field_blocks_are_scaled_to_their_weight()
    {
        var docs = new[] { new[] { "title:x", "title:y", "title:z", "genre:g" } };
        var a = TfIdf.Fit(docs).Matrix;
        var field = new[] { 1, 0, 0, 0 };          // columns in ordinal order: genre:g, title:x, title:y, title:z
        TextItemVectors.NormalizeFieldBlocks(a, field, new[] { 1.0, 0.5 });
        Assert.Equal(0.5, a.Value[0], 1e-12);
        Assert.Equal(1.0, a.Value[1] * a.Value[1] + a.Value[2] * a.Value[2] + a.Value[3] * a.Value[3], 1e-12);
    }

    [Fact]
    public void Item_documents_hold_title_words_genres_year_bucket_categories_and_store()
    {
        var raw = new RawData();
        int movie = raw.Items.GetOrAdd("1");
        raw.ItemAttributes.Set(movie, "title", "Toy Story (1995)");
        raw.ItemAttributes.Set(movie, "release_year", "1997");
        raw.ItemAttributes.Set(movie, "genre", new[] { "Animation", "Comedy" });
        int product = raw.Items.GetOrAdd("B00X");
        raw.ItemAttributes.Set(product, "title", "Fender Strat, Sunburst");
        raw.ItemAttributes.Set(product, "category_path", new[] { "Instruments", "Guitars" });
        raw.ItemAttributes.Set(product, "store", "Fender");
        var docs = ItemDocuments.From(raw, yearBucket: 5);
        Assert.Equal(new[] { "title:toy", "title:story", "genre:Animation", "genre:Comedy", "year:1995" }, docs[0]);
        Assert.Equal(new[] { "title:fender", "title:strat", "title:sunburst", "category:Instruments", "category:Guitars", "store:Fender" }, docs[1]);
    }

    static double[] RandomColumnMajor(int rows, int cols, Rng rng)
    {
        var m = new double[rows * cols];
        for (int i = 0; i < m.Length; i++) m[i] = rng.NextNormal();
        return m;
    }

    static double[] Reconstruct(Svd s, int rank)
    {
        var a = new double[s.Rows * s.Cols];   // column-major
        for (int r = 0; r < rank; r++)
            for (int j = 0; j < s.Cols; j++)
                for (int i = 0; i < s.Rows; i++) a[j * s.Rows + i] += s.U[r * s.Rows + i] * s.S[r] * s.V[r * s.Cols + j];
        return a;
    }

    [Theory]
    [InlineData(9, 5)]
    [InlineData(5, 9)]
    public void Jacobi_svd_reconstructs_with_orthonormal_factors_and_sorted_values(int rows, int cols)
    {
        var m = RandomColumnMajor(rows, cols, new Rng(3));
        var s = JacobiSvd.Compute(m, rows, cols);
        var back = Reconstruct(s, s.Rank);
        for (int i = 0; i < m.Length; i++) Assert.Equal(m[i], back[i], 1e-10);
        for (int r = 1; r < s.Rank; r++) Assert.True(s.S[r - 1] >= s.S[r]);
        for (int p = 0; p < s.Rank; p++)
            for (int q = 0; q < s.Rank; q++)
            {
                double du = 0, dv = 0;
                for (int i = 0; i < rows; i++) du += s.U[p * rows + i] * s.U[q * rows + i];
                for (int j = 0; j < cols; j++) dv += s.V[p * cols + j] * s.V[q * cols + j];
                Assert.Equal(p == q ? 1 : 0, du, 1e-10);
                Assert.Equal(p == q ? 1 : 0, dv, 1e-10);
            }
    }

    [Fact]
    public void Randomized_svd_matches_the_exact_svd_of_a_nearly_low_rank_matrix()
    {
        int rows = 80, cols = 50, rank = 6;
        var rng = new Rng(11);
        var left = RandomColumnMajor(rows, rank, rng);
        var right = RandomColumnMajor(cols, rank, rng);
        var dense = new double[rows * cols];   // row-major for FromDense
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                double v = 0;
                for (int r = 0; r < rank; r++) v += left[r * rows + i] * right[r * cols + j] * (rank - r);
                dense[i * cols + j] = v + 0.01 * rng.NextNormal();
            }
        var sparse = SparseMatrix.FromDense(dense, rows, cols);
        var colMajor = new double[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) colMajor[j * rows + i] = dense[i * cols + j];
        var exact = JacobiSvd.Compute(colMajor, rows, cols);
        var approx = RandomizedSvd.Compute(sparse, rank, oversample: 5, powerIterations: 2, seed: 1);
        for (int r = 0; r < rank; r++) Assert.Equal(exact.S[r], approx.S[r], exact.S[r] * 1e-6);
        // Eckart–Young: the best rank-k error is the energy of the dropped singular values
        double optimal = 0, error = 0;
        for (int r = rank; r < exact.Rank; r++) optimal += exact.S[r] * exact.S[r];
        var back = Reconstruct(approx, rank);
        for (int i = 0; i < back.Length; i++) error += (back[i] - colMajor[i]) * (back[i] - colMajor[i]);
        Assert.InRange(error, optimal * 0.999, optimal * 1.01);
    }

    [Fact]
    public void Randomized_svd_is_deterministic_per_seed()
    {
        var rng = new Rng(5);
        var dense = new double[30 * 20];
        for (int i = 0; i < dense.Length; i++) dense[i] = rng.NextDouble() < 0.2 ? rng.NextDouble() : 0;
        var a = SparseMatrix.FromDense(dense, 30, 20);
        Assert.Equal(RandomizedSvd.Compute(a, 4, seed: 9).U, RandomizedSvd.Compute(a, 4, seed: 9).U);
    }

    [Fact]
    public void Ppmi_keeps_only_positive_associations()
    {
        // 0–1 often together, 2–3 often together, 0–2 and 1–2 once: less than chance
        var pairs = new[]
        {
            new Dictionary<int, double> { [1] = 8, [2] = 1 },
            new Dictionary<int, double> { [0] = 8, [2] = 1 },
            new Dictionary<int, double> { [0] = 1, [1] = 1, [3] = 5 },
            new Dictionary<int, double> { [2] = 5 },
        };
        var m = CooccurrenceItemVectors.Ppmi(pairs, 4);
        double total = 30;   // row sums 9, 9, 7, 5
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, m.RowStart);
        Assert.Equal(new[] { 1, 0, 3, 2 }, m.Col);
        Assert.Equal(Math.Log(8 * total / (9 * 9)), m.Value[0], 1e-12);
        Assert.Equal(Math.Log(5 * total / (7 * 5)), m.Value[2], 1e-12);
    }
}
