using SharpCtr.Data.Batching;
using SharpCtr.Data.Encoded;
using SharpCtr.Models;
using SharpCtr.Models.Diffusion;
using SharpCtr.Tensors;
using SharpCtr.Training.Evaluation;
using SharpCtr.Training.Experiments;
using SharpCtr.Training.Trainer;

namespace SharpCtr.Training.Tests.Models;

public sealed class CdpTests(PlantedDataFixture fixture) : IClassFixture<PlantedDataFixture>
{
    readonly PlantedData data = fixture.Data;

    // The planted data has no query, context or scene: profile fields stand in for them so the
    // three-condition MoE path runs.
    static readonly string[] Conditions = ["model.context_fields=[age]", "model.scene_fields=[gender]"];

    Experiment Load(string model, params string[] extra) =>
        Experiment.Load(data.ExperimentPath, new[] { $"model.name={model}", "model.mlp=[64]", "model.train_steps=5" }.Concat(extra));

    CtrModel Create(params string[] extra) =>
        ModelRegistry.Create(new ModelContext(data.Dataset, Load("cdp", extra).Model, new Rng(1)));

    [Fact]
    public void ScheduleMatchesTheClosedForm()
    {
        var s = new DiffusionSchedule(100, 0.005, 0.01);
        Assert.Equal(0.005, s.Beta[1], 1e-12);
        Assert.Equal(0.01, s.Beta[100], 1e-12);
        Assert.Equal(0.005 + 0.005 * 49 / 99.0, s.Beta[50], 1e-12);
        double prod = 1;
        for (int t = 1; t <= 100; t++)
        {
            prod *= 1 - s.Beta[t];
            Assert.Equal(prod, s.AlphaBar[t], 1e-12);
            var (a, b) = s.Marginal(t);
            Assert.Equal(Math.Sqrt(prod), a, 1e-6);
            Assert.Equal(Math.Sqrt(1 - prod), b, 1e-6);
        }
        // Σβ = 0.75, so ᾱ_T ≈ e^{−0.75}: the chain keeps about half the signal power.
        Assert.InRange(s.AlphaBar[100], 0.46, 0.48);
    }

    [Fact]
    public void RespacedChainVisitsTwentyStridedSteps()
    {
        var steps = new DiffusionSchedule(100, 0.005, 0.01).Respaced(100, 20);
        Assert.Equal(20, steps.Length);
        Assert.Equal((100, 95), steps[0]);
        Assert.Equal((5, 0), steps[^1]);
        for (int k = 1; k < steps.Length; k++) Assert.Equal(steps[k - 1].To, steps[k].From);
        Assert.Equal([(7, 4), (4, 0)], new DiffusionSchedule(100, 0.005, 0.01).Respaced(7, 2));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(100)]
    public void AReverseStepWithTheTrueNoiseInvertsTheForwardStep(int t)
    {
        // x_t = sqrt(ᾱ_t)·x0 + sqrt(1 − ᾱ_t)·ε, then the posterior-mean step t → 0 given the true ε.
        var s = new DiffusionSchedule(100, 0.005, 0.01);
        var rng = new Rng(7);
        var (a, b) = s.Marginal(t);
        var (cx, ce) = s.ReverseCoefficients(t, 0);
        for (int i = 0; i < 50; i++)
        {
            float x0 = (float)rng.NextNormal(), eps = (float)rng.NextNormal();
            float xt = a * x0 + b * eps;
            Assert.Equal(x0, cx * xt - ce * eps, 1e-4);
        }
    }

    [Fact]
    public void InferenceIsDeterministic()
    {
        var m = (Cdp)Create(Conditions);
        var rows = data.Dataset.Indices(Splits.Test)[..40];
        var batch = new Batch(data.Dataset, rows.Length);
        batch.Fill(data.Dataset, rows);
        var first = m.Purify(batch);
        var second = m.Purify(batch);
        Assert.Equal(first.H, second.H);
        Assert.Equal(Evaluator.Predict(m, data.Dataset, rows, 40), Evaluator.Predict(m, data.Dataset, rows, 40));
        Assert.Equal(20, m.Purifier.InferenceSteps);
        Assert.NotEqual(first.X0, first.H);   // the chain did something
    }

    [Theory]
    [InlineData("learned")]
    [InlineData("mean_all")]
    public void CategoryGatePoolsOnlyTheTargetsCategoryAndEmptyHistoriesTakeTheirPath(string emptyHistory)
    {
        var m = (Cdp)Create("model.x0_norm=none", $"model.empty_history={emptyHistory}");
        var d = data.Dataset;
        var rows = d.Indices(Splits.Train)[..400];   // each user's first rows: short histories, often without the target's genre
        var batch = new Batch(d, rows.Length);
        batch.Fill(d, rows);
        var (x0, _) = m.Purify(batch);
        var table = m.Parameters().First(p => p.Name == "embeddings.table.item_id.weight").Value;
        var empty = m.Parameters().FirstOrDefault(p => p.Name == "empty_history").Value;
        var seq = batch.Sequence("item_seq");
        var genres = seq.Side("genre");
        var target = batch.MultiField("genre");
        int dim = table.Shape[1], gated = 0, fallback = 0;
        for (int r = 0; r < rows.Length; r++)
        {
            var expect = new float[dim];
            int count = 0, len = seq.Lengths[r];
            for (int l = 0; l < len; l++)
                if (genres[r * seq.MaxLen + l] == target.Ids[r * target.Width]) { Accumulate(seq.Items[r * seq.MaxLen + l]); count++; }
            if (count > 0) gated++;
            else if (emptyHistory == "learned") { for (int k = 0; k < dim; k++) expect[k] = empty.Data[k]; count = 1; fallback++; }
            else if (len > 0) { for (int l = 0; l < len; l++) Accumulate(seq.Items[r * seq.MaxLen + l]); count = len; fallback++; }
            for (int k = 0; k < dim; k++)
                Assert.Equal(expect[k] / Math.Max(1, count), x0[r * dim + k], 1e-5);

            void Accumulate(int item) { for (int k = 0; k < dim; k++) expect[k] += table.Data[item * dim + k]; }
        }
        Assert.True(gated > 10 && fallback > 3, $"both paths must occur: gated {gated}, fallback {fallback}");
    }

    [Theory]
    [InlineData("full")]
    [InlineData("none", "model.train_h=one_step", "model.interaction=hadamard")]
    [InlineData("full", "model.sequence=attention")]
    public void LearnsThePlantedSignal(string condition, params string[] extra)
    {
        var exp = Load("cdp", [.. Conditions, $"model.condition={condition}", .. extra]);
        var r = new ModelTrainer(exp, data.Dataset, Path.Combine(data.Root, "runs", "cdp-" + condition + extra.Length), TextWriter.Null).Run(resume: false);
        Assert.True(r.Test.Auc > 0.70, $"cdp ({condition}): test AUC {r.Test.Auc:F4}");
    }

    [Theory]
    [InlineData("full", 16)]
    [InlineData("none", 16)]
    [InlineData("full", 12)]   // a width the fused kernel does not take: the op-by-op chain, same answer
    public void FusedReverseChainMatchesTheOpByOpChain(string condition, int embeddingDim)
    {
        var m = (Cdp)Create([.. Conditions, $"model.condition={condition}", $"model.embedding_dim={embeddingDim}"]);
        var rows = data.Dataset.Indices(Splits.Test)[..50];
        var batch = new Batch(data.Dataset, rows.Length);
        batch.Fill(data.Dataset, rows);
        m.Freeze();
        var fused = m.Purify(batch).H;
        m.Purifier.FusedInference = false;
        var opByOp = m.Purify(batch).H;
        Assert.Equal(opByOp.Length, fused.Length);
        for (int i = 0; i < fused.Length; i++)
            Assert.True(MathF.Abs(fused[i] - opByOp[i]) <= 1e-5f + 1e-5f * MathF.Abs(opByOp[i]), $"element {i}: fused {fused[i]} vs op by op {opByOp[i]}");
        using (Tape.Inference())
        {
            int d = m.Purifier.Denoiser.Dim;
            var x = Tensor.FromArray(new float[3 * d], 3, d);
            var stepParts = m.Purifier.Denoiser.StepPart([5]);
            bool covered = m.Purifier.Denoiser.ReverseFused(x, stepParts, null, [1f], [0.1f]) is not null;
            Assert.Equal(d % 16 == 0, covered);
        }
    }

    [Theory]
    [InlineData("full")]
    [InlineData("no_collaborative")]
    [InlineData("no_context_scene")]
    [InlineData("no_moe")]
    [InlineData("none")]
    [InlineData("full", "model.sequence=mean")]
    [InlineData("full", "model.sequence=attention")]
    [InlineData("full", "model.h_dropout=0.5")]
    public void BatchScoresEqualOneByOneScores(string condition, params string[] extra)
    {
        var m = Create([.. Conditions, $"model.condition={condition}", .. extra]);
        var test = data.Dataset.Indices(Splits.Test);
        int[] rows = [test[0], test[0], test[0], test[5], test[5], .. test[9..40]];   // consecutive rows share a request's fields
        var batched = Evaluator.Predict(m, data.Dataset, rows, batchSize: rows.Length);
        var single = Evaluator.Predict(m, data.Dataset, rows, batchSize: 1);
        for (int i = 0; i < rows.Length; i++)
            Assert.True(MathF.Abs(batched[i] - single[i]) < 1e-5f, $"row {i}: batch {batched[i]} vs single {single[i]}");
    }

    [Theory]
    [InlineData("model.train_h=reverse_chain")]
    [InlineData("model.train_h=one_step")]
    [InlineData("model.sequence=attention")]
    [InlineData("model.h_dropout=0.5")]
    [InlineData("model.x0_gradient=stop")]
    [InlineData("model.train_start=mean")]
    public void EveryParameterGetsAGradient(string setting)
    {
        var m = Create([.. Conditions, setting]);
        var batch = new Batch(data.Dataset, 128);
        batch.Fill(data.Dataset, data.Dataset.Indices(Splits.Train)[..128]);
        using (var tape = Tape.Train())
        {
            var output = m.Forward(batch);
            Assert.Single(output.AuxLosses);
            var loss = Ops.Add(Ops.BceWithLogits(output.Logits, Tensor.FromArray(batch.Labels, 128)), output.AuxLosses[0].Value);
            tape.Backward(loss);
        }
        foreach (var (name, p) in m.Parameters())
        {
            bool has = p.SparseGrad is { Count: > 0 } || (p.Grad is not null && p.Grad.ToArray().Any(v => v != 0));
            Assert.True(has, $"parameter {name} got no gradient");
        }
    }

    /// <summary>h_dropout acts in training: with every other random stream replayed, a different
    /// h_dropout stream gives different training-mode scores (inference is covered by the batch test).</summary>
    [Fact]
    public void HDropoutMasksThePurifiedVectorInTraining()
    {
        var m = Create([.. Conditions, "model.h_dropout=0.5"]);
        var batch = new Batch(data.Dataset, 64);
        batch.Fill(data.Dataset, data.Dataset.Indices(Splits.Train)[..64]);
        var streams = m.Rngs().ToArray();
        Assert.Contains(streams, r => r.Name == "h_dropout");
        var saved = streams.Select(r => r.Value.GetState()).ToArray();
        float[] Scores(bool advanceHDropout)
        {
            for (int i = 0; i < streams.Length; i++) streams[i].Value.SetState(saved[i]);
            if (advanceHDropout) streams.Single(r => r.Name == "h_dropout").Value.NextUInt64();
            using (Tape.Train()) return m.Forward(batch).Logits.ToArray();
        }
        Assert.Equal(Scores(false), Scores(false));
        Assert.NotEqual(Scores(false), Scores(true));
    }

    /// <summary>x0_gradient: stop — the item rows that reach the loss only as history items get no
    /// gradient (the target rows still do); pass — they get one through x0. CDP and the DiffRec-style
    /// purifier share the option.</summary>
    [Theory]
    [InlineData("cdp", "pass", true)]
    [InlineData("cdp", "stop", false)]
    [InlineData("diffrec", "pass", true)]
    [InlineData("diffrec", "stop", false)]
    public void X0GradientStopKeepsTheLossOutOfTheHistoryItems(string model, string x0Gradient, bool expectHistoryGradient)
    {
        var m = ModelRegistry.Create(new ModelContext(data.Dataset, Load(model, [.. model == "cdp" ? Conditions : [], $"model.x0_gradient={x0Gradient}"]).Model, new Rng(1)));
        var d = data.Dataset;
        var rows = d.Indices(Splits.Train)[^16..];   // the last users' late rows: long histories, few targets
        var batch = new Batch(d, rows.Length);
        batch.Fill(d, rows);
        using (var tape = Tape.Train())
            tape.Backward(Ops.BceWithLogits(m.Forward(batch).Logits, Tensor.FromArray(batch.Labels, rows.Length)));
        var table = m.Parameters().First(p => p.Name == "embeddings.table.item_id.weight").Value;
        int vocab = table.Shape[0], dim = table.Shape[1];
        var grad = table.SparseGrad is not null ? table.SparseGrad.ToDense(vocab) : table.Grad!.ToArray();
        bool Moved(int item) => grad.AsSpan(item * dim, dim).ContainsAnyExcept(0f);
        var targets = batch.Categorical["item_id"].ToHashSet();
        var seq = batch.Sequence("item_seq");
        var historyOnly = new HashSet<int>();
        for (int r = 0; r < rows.Length; r++)
            for (int l = 0; l < Math.Min(seq.Lengths[r], seq.MaxLen); l++)
                if (!targets.Contains(seq.Items[r * seq.MaxLen + l])) historyOnly.Add(seq.Items[r * seq.MaxLen + l]);
        Assert.True(historyOnly.Count >= 5, $"only {historyOnly.Count} history-only items");
        Assert.All(targets, item => Assert.True(Moved(item), $"target item {item} got no gradient"));
        Assert.Equal(expectHistoryGradient, historyOnly.Any(Moved));
    }

    /// <summary>train_start: mean — training runs the chain inference runs, so (without dropout) the
    /// training-mode scores are the served ones; noised starts give other scores.</summary>
    [Theory]
    [InlineData("mean", true)]
    [InlineData("noised", false)]
    public void MeanStartTrainsOnTheChainInferenceRuns(string start, bool expectEqual)
    {
        var m = Create([.. Conditions, $"model.train_start={start}", "model.train_steps=20"]);   // the inference chain's length
        var batch = new Batch(data.Dataset, 64);
        batch.Fill(data.Dataset, data.Dataset.Indices(Splits.Test)[..64]);
        float[] training;
        using (Tape.Train()) training = m.Forward(batch).Logits.ToArray();
        m.Eval();
        float[] served;
        using (Tape.Inference()) served = m.Forward(batch).Logits.ToArray();
        bool equal = training.Zip(served).All(p => MathF.Abs(p.First - p.Second) <= 1e-5f + 1e-5f * MathF.Abs(p.Second));
        Assert.Equal(expectEqual, equal);
    }

    /// <summary>Bad values of the new keys, and a combination without meaning, fail with the key's name.</summary>
    [Theory]
    [InlineData("model.x0_gradient=detach", "x0_gradient")]
    [InlineData("model.train_start=zero", "train_start")]
    [InlineData("model.train_start=mean,model.train_h=one_step", "train_start")]
    public void BadPurifierSettingsNameTheirKey(string settings, string key)
    {
        var e = Assert.Throws<SharpCtr.Data.Config.ConfigException>(() => Create([.. Conditions, .. settings.Split(',')]));
        Assert.Contains(key, e.Message);
    }

    /// <summary>With sequence: none the history reaches the score only through the gate (an item outside the
    /// target's category changes nothing); with sequence: mean or attention the whole history does.</summary>
    [Theory]
    [InlineData("none", false)]
    [InlineData("mean", true)]
    [InlineData("attention", true)]
    public void OffCategoryHistoryReachesTheScoreOnlyWithThePooledHistory(string sequence, bool expectChange)
    {
        var m = Create([.. Conditions, $"model.sequence={sequence}"]);
        m.Eval();
        var d = data.Dataset;
        var rows = d.Indices(Splits.Test)[..200];
        var batch = new Batch(d, rows.Length);
        batch.Fill(d, rows);
        var seq = batch.Sequence("item_seq");
        var genres = seq.Side("genre");
        var target = batch.MultiField("genre");
        float[] Scores() { using (Tape.Inference()) return m.Forward(batch).Logits.ToArray(); }
        var before = Scores();
        int changedRows = 0, edited = 0;
        for (int r = 0; r < rows.Length; r++)
            for (int l = 0; l < seq.Lengths[r]; l++)
            {
                int at = r * seq.MaxLen + l;
                if (genres[at] == target.Ids[r * target.Width]) continue;
                seq.Items[at] = seq.Items[at] % 50 + 1;   // another item id; its category side stays off the gate
                edited++;
            }
        var after = Scores();
        for (int r = 0; r < rows.Length; r++) if (before[r] != after[r]) changedRows++;
        Assert.True(edited > 50, $"only {edited} off-category history items to edit");
        if (expectChange) Assert.True(changedRows > 50, $"only {changedRows} scores moved");
        else Assert.Equal(0, changedRows);
    }

    public static TheoryData<string> ShippedConfigs() => GenCiTests.ShippedMovieLensConfigs("cdp*.yaml");

    /// <summary>Every shipped MovieLens-1M CDP experiment builds with no unknown or unused model key.</summary>
    [Theory]
    [MemberData(nameof(ShippedConfigs))]
    public void EveryShippedCdpConfigBuilds(string path)
    {
        var exp = Experiment.Load(path);
        Assert.IsType<Cdp>(ModelRegistry.Create(new ModelContext(data.Dataset, exp.Model, new Rng(1))));
    }
}
