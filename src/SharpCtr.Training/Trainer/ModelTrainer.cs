using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SharpCtr.Data.Batching;
using SharpCtr.Data.Encoded;
using SharpCtr.Models;
using SharpCtr.Tensors;
using SharpCtr.Tensors.IO;
using SharpCtr.Tensors.Optim;
using SharpCtr.Training.Evaluation;
using SharpCtr.Training.Experiments;
using SharpCtr.Training.Progress;

namespace SharpCtr.Training.Trainer;

/// <summary>
/// Trains one model of an experiment: shuffled epochs, validation after each, early stopping
/// with patience, best weights restored for the test evaluation. A checkpoint (weights, optimizer
/// state, epoch, data position, early-stopping state) is written atomically at every epoch end
/// (and every `checkpoint_every_steps`), so a killed run resumes with <c>resume: true</c> and
/// ends with the same metrics as an uninterrupted one.
/// </summary>
public sealed class ModelTrainer
{
    readonly Experiment exp;
    readonly EncodedDataset data;
    readonly string outDir;
    readonly TextWriter log;
    public CtrModel Model { get; }
    /// <summary>Called after every optimisation step with (epoch, step); tests use it to abort a run mid-epoch.</summary>
    internal Action<int, int>? AfterStep { get; set; }
    readonly Optimizer optimizer;
    readonly Tensor[] parameters;
    readonly Tensor[] state;             // parameters and buffers (running statistics): what the best weights hold
    readonly WeightAverage? average;     // ema_decay > 0: validation and test see the averaged weights
    readonly Tensor[] checkpointState;   // state and the averages: what a checkpoint holds
    readonly int seed;

    const string AverageUpdatesKey = "ema/updates";   // beside the averages' tensors (ema/<parameter>), as the RNGs' states are
    string CheckpointPath => Path.Combine(outDir, "checkpoint.safetensors");
    string BestPath => Path.Combine(outDir, "best.safetensors");

    public ModelTrainer(Experiment exp, EncodedDataset data, string outDir, TextWriter log)
    {
        // Training alternates OpenBLAS products with managed kernels: its workers should not spin
        // between calls (design note 29). No effect once a product has loaded the library.
        Tensors.Kernels.Gemm.SleepBlasThreadsBetweenCalls();
        this.exp = exp;
        this.data = data;
        this.outDir = outDir;
        this.log = log;
        var t = exp.Train;
        seed = t.Seed;
        Model = ModelRegistry.Create(new ModelContext(data, exp.Model, new Rng((ulong)seed)));
        exp.Validate();
        parameters = Model.Parameters().Select(p => p.Value).ToArray();
        state = parameters.Concat(Model.Buffers().Select(b => b.Value)).ToArray();
        average = t.EmaDecay > 0 ? new WeightAverage(parameters, t.EmaDecay) : null;
        checkpointState = average is null ? state : state.Concat(average.Averages).ToArray();
        var dense = parameters.Where(p => p.SparseGrad is null).ToArray();
        var sparse = parameters.Where(p => p.SparseGrad is not null).ToArray();
        var groups = new List<ParamGroup>();
        if (dense.Length > 0) groups.Add(new ParamGroup(dense, t.LearningRate, t.WeightDecay));
        if (sparse.Length > 0) groups.Add(new ParamGroup(sparse, t.EmbeddingLearningRate, 0f));
        optimizer = t.Optimizer switch
        {
            "adam" => new Adam(groups),
            "adamw" => new AdamW(groups),
            "adagrad" => new Adagrad(groups),
            _ => new Sgd(groups),
        };
    }

    public TrainResult Run(bool resume)
    {
        var t = exp.Train;
        Directory.CreateDirectory(outDir);
        AtomicFile.WriteAllText(Path.Combine(outDir, "config.yaml"), exp.ResolvedYaml());
        var train = Limit(data.Indices(Splits.Train), t.MaxTrainRows);
        var valid = Limit(data.Indices(Splits.Valid), t.MaxEvalRows);
        var test = Limit(data.Indices(Splits.Test), t.MaxEvalRows);
        if (train.Length == 0) throw new InvalidOperationException($"data set '{data.Name}' has no training rows");
        var loader = new BatchLoader(data, train, t.BatchSize, shuffle: true, seed: seed);

        var st = new RunState();
        if (resume && File.Exists(CheckpointPath))
        {
            var meta = Checkpoint.Load(CheckpointPath, checkpointState, optimizer);
            st = RunState.From(meta);
            if (average is not null) average.Updates = long.Parse(meta[AverageUpdatesKey], CultureInfo.InvariantCulture);
            foreach (var (name, rng) in Model.Rngs())
                if (meta.TryGetValue("rng/" + name, out var saved)) Checkpoint.RestoreRng(rng, saved);
            log.WriteLine($"resumed from {CheckpointPath}: epoch {st.Epoch + 1}, step {st.Step}");
        }
        else if (File.Exists(CheckpointPath)) File.Delete(CheckpointPath);

        while (st.Epoch < t.Epochs && !st.Stopped)
        {
            SetLearningRate(st);
            Model.Train();
            var progress = ProgressReporter.ForConsole($"{exp.Name} epoch {st.Epoch + 1}/{t.Epochs}", train.Length);
            int step = 0;
            var sw = Stopwatch.StartNew();
            long samplesThisRun = 0;
            foreach (var batch in loader.Epoch(st.Epoch))
            {
                if (step++ < st.Step) continue;   // resuming inside an epoch: the order is a function of (seed, epoch)
                double loss = Step(batch);
                st.LossSum += loss * batch.Count;
                st.LossRows += batch.Count;
                samplesThisRun += batch.Count;
                st.Step = step;
                progress.Report((long)step * t.BatchSize, new LossTerm("loss", st.LossSum / Math.Max(1, st.LossRows)));
                if (t.CheckpointEverySteps > 0 && step % t.CheckpointEverySteps == 0)
                {
                    st.TrainSeconds += sw.Elapsed.TotalSeconds; sw.Restart();
                    st.TrainSamples += samplesThisRun; samplesThisRun = 0;
                    Save(st);
                }
                AfterStep?.Invoke(st.Epoch, step);
            }
            st.TrainSeconds += sw.Elapsed.TotalSeconds;
            st.TrainSamples += samplesThisRun;
            progress.Finish(train.Length, new LossTerm("loss", st.LossSum / Math.Max(1, st.LossRows)));

            average?.Swap();   // validation and the best weights are the averaged ones; training goes on from the live ones
            var vm = Evaluator.Metrics(data, valid, Evaluator.Predict(Model, data, valid, t.EvalBatchSize));
            double score = vm.Get(t.Monitor);
            st.EpochLosses.Add(st.LossSum / Math.Max(1, st.LossRows));
            bool improved = st.BestEpoch < 0 || SplitMetrics.Better(t.Monitor, score, st.BestScore);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {st.Epoch + 1}: train loss {st.EpochLosses[^1]:F5}, valid auc {vm.Auc:F5} logloss {vm.LogLoss:F5} gauc {vm.Gauc:F5}, lr {optimizer.Groups[0].LearningRate:G4}{(improved ? "  (best)" : "")}"));
            if (improved)
            {
                st.BestScore = score;
                st.BestEpoch = st.Epoch;
                st.BadEpochs = 0;
                Checkpoint.Save(BestPath, state);
            }
            else
            {
                st.BadEpochs++;
                if (t.Schedule == "plateau") st.LrReductions++;
            }
            average?.Swap();
            st.Epoch++;
            st.Step = 0;
            st.LossSum = 0;
            st.LossRows = 0;
            if (t.Patience > 0 && st.BadEpochs >= t.Patience) st.Stopped = true;
            Save(st);
        }

        Checkpoint.Load(BestPath, state);
        var validScores = Evaluator.Predict(Model, data, valid, t.EvalBatchSize);
        var sw2 = Stopwatch.StartNew();
        var testScores = Evaluator.Predict(Model, data, test, t.EvalBatchSize);
        double inferenceRate = test.Length / Math.Max(1e-9, sw2.Elapsed.TotalSeconds);
        var latency = RequestLatency.Measure(Model, data, test.Length > 0 ? test : valid);
        var result = new TrainResult(exp.Name, exp.ModelName, seed, st.BestEpoch + 1, st.Epoch,
            Evaluator.Metrics(data, valid, validScores), Evaluator.Metrics(data, test, testScores),
            st.TrainSamples / Math.Max(1e-9, st.TrainSeconds), inferenceRate, latency,
            parameters.Sum(p => (long)p.Size), st.EpochLosses);
        WriteMetrics(Path.Combine(outDir, "metrics.json"), result);
        return result;
    }

    /// <summary>Training throughput over <paramref name="steps"/> steps after <paramref name="warmup"/> (the model's weights change). Allocation per step
    /// (this thread, batch loading included) as the median and the mean over the steps: a step whose shapes are new to the
    /// buffer pool allocates its temporaries once, so the mean moves with how many such steps the window holds.</summary>
    public (double SamplesPerSecond, double AllocatedBytesPerStep, double MsPerStep, double CpuMsPerStep, double MedianAllocatedBytesPerStep) MeasureThroughput(int steps, int warmup = 20)
    {
        var train = data.Indices(Splits.Train);
        var loader = new BatchLoader(data, train, exp.Train.BatchSize, shuffle: true, seed: seed);
        Model.Train();
        int done = 0; long samples = 0, previous = 0;
        var perStep = new List<long>(steps);
        var sw = new Stopwatch();
        var process = Process.GetCurrentProcess();
        TimeSpan cpu0 = default;
        for (int epoch = 0; done < warmup + steps; epoch++)
            foreach (var batch in loader.Epoch(epoch))
            {
                if (done == warmup) { sw.Start(); previous = GC.GetAllocatedBytesForCurrentThread(); process.Refresh(); cpu0 = process.TotalProcessorTime; }
                Step(batch);
                if (++done > warmup)
                {
                    samples += batch.Count;
                    long now = GC.GetAllocatedBytesForCurrentThread();
                    perStep.Add(now - previous);
                    previous = now;
                }
                if (done == warmup + steps) break;
            }
        sw.Stop();
        process.Refresh();
        // CPU time of the whole process (all threads, spinning included): on a shared machine it moves less than wall time.
        double cpuMs = (process.TotalProcessorTime - cpu0).TotalMilliseconds;
        perStep.Sort();
        double median = perStep.Count == 0 ? 0 : perStep.Count % 2 == 1 ? perStep[perStep.Count / 2] : (perStep[perStep.Count / 2 - 1] + perStep[perStep.Count / 2]) / 2.0;
        return (samples / sw.Elapsed.TotalSeconds, perStep.Count == 0 ? 0 : perStep.Average(), sw.Elapsed.TotalMilliseconds / steps, cpuMs / steps, median);
    }

    /// <summary>One optimisation step: forward, backward, regularise, clip, update. Returns the batch's CTR loss.</summary>
    double Step(Batch batch)
    {
        var t = exp.Train;
        double ctr;
        using (var tape = Tape.Train())
        {
            var output = Model.Forward(batch);
            var labels = Tensor.FromArray(batch.Labels, batch.Count);
            var loss = Ops.BceWithLogits(output.Logits, labels);
            ctr = loss.ToScalar();
            foreach (var (_, aux) in output.AuxLosses) loss = Ops.Add(loss, aux);
            tape.Backward(loss);
        }
        if (t.EmbeddingL2 > 0) AddEmbeddingL2(t.EmbeddingL2);
        if (t.ClipNorm > 0) GradientClipping.ClipByGlobalNorm(parameters, t.ClipNorm);
        optimizer.Step();
        optimizer.ZeroGrad();
        average?.Update();
        return ctr;
    }

    /// <summary>Gradient of (λ/2)·Σ‖row‖² over the rows this batch touched: only those rows, never the whole table.</summary>
    void AddEmbeddingL2(float lambda)
    {
        foreach (var table in Model.EmbeddingTables())
        {
            var g = table.SparseGrad!;
            var rows = g.Rows;
            for (int i = 0; i < rows.Length; i++)
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(table.Data.AsSpan(rows[i] * g.Dim, g.Dim), lambda, g.Values(i), g.Values(i));
        }
    }

    void SetLearningRate(RunState st)
    {
        float factor = LearningRateFactor(exp.Train, st.Epoch, st.LrReductions);
        foreach (var g in optimizer.Groups) g.LearningRate = g.InitialLearningRate * factor;
    }

    /// <summary>
    /// The learning rate of <paramref name="epoch"/> (0-based) relative to the configured one:
    /// constant; cosine from 1 toward 0 over the epochs; step ×0.1 at each of lr_decay_epochs;
    /// plateau ×0.1 for every epoch so far whose validation did not improve (FuxiCTR's
    /// reduce-on-plateau; with early-stopping patience p, at most p − 1 reductions take effect).
    /// </summary>
    internal static float LearningRateFactor(TrainConfig t, int epoch, int plateauReductions) => t.Schedule switch
    {
        "cosine" => (float)(0.5 * (1 + Math.Cos(Math.PI * epoch / t.Epochs))),
        "step" => MathF.Pow(0.1f, t.DecayEpochs.Count(e => epoch >= e)),
        "plateau" => MathF.Pow(0.1f, plateauReductions),
        _ => 1f,
    };

    void Save(RunState st)
    {
        var meta = st.ToMetadata();
        foreach (var (name, rng) in Model.Rngs()) meta["rng/" + name] = Checkpoint.RngState(rng);
        if (average is not null) meta[AverageUpdatesKey] = average.Updates.ToString(CultureInfo.InvariantCulture);
        Checkpoint.Save(CheckpointPath, checkpointState, optimizer, meta);
    }

    static int[] Limit(int[] rows, int max) => max > 0 && rows.Length > max ? rows[..max] : rows;

    public static void WriteMetrics(string path, TrainResult r)
    {
        static object M(SplitMetrics m) => new { auc = m.Auc, logloss = m.LogLoss, gauc = m.Gauc, uauc = m.Uauc, rows = m.Rows };
        var json = JsonSerializer.Serialize(new
        {
            experiment = r.Experiment,
            model = r.Model,
            seed = r.Seed,
            test = M(r.Test),
            valid = M(r.Valid),
            best_epoch = r.BestEpoch,
            epochs_run = r.EpochsRun,
            train_samples_per_second = r.TrainSamplesPerSecond,
            inference = new { samples_per_second = r.InferenceSamplesPerSecond, p50_ms = r.Latency.P50Ms, p99_ms = r.Latency.P99Ms, candidates = r.Latency.Candidates },
            parameters = r.Parameters,
            epoch_losses = r.EpochLosses,
        }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });
        AtomicFile.WriteAllText(path, json + "\n");
    }

    /// <summary>Where a run stands; saved in the checkpoint's metadata.</summary>
    sealed class RunState
    {
        public int Epoch, Step, BestEpoch = -1, BadEpochs, LrReductions;
        public bool Stopped;
        public double BestScore, LossSum, TrainSeconds;
        public long LossRows, TrainSamples;
        public List<double> EpochLosses = new();

        public Dictionary<string, string> ToMetadata() => new()
        {
            ["run/epoch"] = I(Epoch), ["run/step"] = I(Step), ["run/best_epoch"] = I(BestEpoch),
            ["run/bad_epochs"] = I(BadEpochs), ["run/lr_reductions"] = I(LrReductions), ["run/stopped"] = Stopped ? "1" : "0",
            ["run/best_score"] = D(BestScore), ["run/loss_sum"] = D(LossSum), ["run/loss_rows"] = I(LossRows),
            ["run/train_seconds"] = D(TrainSeconds), ["run/train_samples"] = I(TrainSamples),
            ["run/epoch_losses"] = string.Join(",", EpochLosses.Select(D)),
        };

        public static RunState From(Dictionary<string, string> m)
        {
            double Dv(string k) => double.Parse(m[k], CultureInfo.InvariantCulture);
            long Lv(string k) => long.Parse(m[k], CultureInfo.InvariantCulture);
            return new RunState
            {
                Epoch = (int)Lv("run/epoch"), Step = (int)Lv("run/step"), BestEpoch = (int)Lv("run/best_epoch"),
                BadEpochs = (int)Lv("run/bad_epochs"),
                LrReductions = m.ContainsKey("run/lr_reductions") ? (int)Lv("run/lr_reductions") : 0,   // absent in older checkpoints
                Stopped = m["run/stopped"] == "1",
                BestScore = Dv("run/best_score"), LossSum = Dv("run/loss_sum"), LossRows = Lv("run/loss_rows"),
                TrainSeconds = Dv("run/train_seconds"), TrainSamples = Lv("run/train_samples"),
                EpochLosses = m["run/epoch_losses"].Length == 0 ? new() : m["run/epoch_losses"].Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToList(),
            };
        }

        static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    }
}
