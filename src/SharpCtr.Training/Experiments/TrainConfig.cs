using SharpCtr.Data.Config;

namespace SharpCtr.Training.Experiments;

/// <summary>The `train:` section of an experiment.</summary>
public sealed class TrainConfig
{
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 1024;
    public int EvalBatchSize { get; init; } = 4096;
    public string Optimizer { get; init; } = "adam";
    public float LearningRate { get; init; } = 1e-3f;
    /// <summary>Learning rate of embedding tables (sparse rows); defaults to <see cref="LearningRate"/>.</summary>
    public float EmbeddingLearningRate { get; init; } = 1e-3f;
    public float WeightDecay { get; init; }
    /// <summary>L2 on the embedding rows a batch touches (mini-batch aware regularisation, DIN paper).</summary>
    public float EmbeddingL2 { get; init; }
    public float ClipNorm { get; init; }
    /// <summary>Decay of the moving average of the weights that validation, early stopping and the test see (0: the last weights).</summary>
    public float EmaDecay { get; init; }
    /// <summary>constant | cosine | step (×0.1 at each of `lr_decay_epochs`).</summary>
    public string Schedule { get; init; } = "constant";
    public int[] DecayEpochs { get; init; } = [];
    public string Monitor { get; init; } = "auc";
    public int Patience { get; init; } = 2;
    public int Seed { get; init; } = 2024;
    /// <summary>Checkpoint every N steps inside an epoch too (0: only at epoch ends).</summary>
    public int CheckpointEverySteps { get; init; }
    /// <summary>Use only the first N training rows (quick profiles and tests); 0 = all.</summary>
    public int MaxTrainRows { get; init; }
    public int MaxEvalRows { get; init; }

    public static TrainConfig Read(ConfigSection s)
    {
        float lr = (float)s.GetDouble("learning_rate", 1e-3, min: 0);
        return new TrainConfig
        {
            Epochs = s.GetInt("epochs", 10, min: 1),
            BatchSize = s.GetInt("batch_size", 1024, min: 1),
            EvalBatchSize = s.GetInt("eval_batch_size", 4096, min: 1),
            Optimizer = s.GetChoice("optimizer", "adam", "adam", "adamw", "adagrad", "sgd"),
            LearningRate = lr,
            EmbeddingLearningRate = (float)s.GetDouble("embedding_learning_rate", lr, min: 0),
            WeightDecay = (float)s.GetDouble("weight_decay", 0, min: 0),
            EmbeddingL2 = (float)s.GetDouble("embedding_l2", 0, min: 0),
            ClipNorm = (float)s.GetDouble("clip_norm", 0, min: 0),
            EmaDecay = (float)s.GetDouble("ema_decay", 0, min: 0, below: 1),   // 0: off
            Schedule = s.GetChoice("lr_schedule", "constant", "constant", "cosine", "step", "plateau"),
            DecayEpochs = s.GetIntList("lr_decay_epochs", [], min: 1).ToArray(),
            Monitor = s.GetChoice("monitor", "auc", "auc", "logloss", "gauc", "uauc", "auc-logloss"),
            Patience = s.GetInt("patience", 2, min: 0),
            Seed = s.GetInt("seed", 2024),
            CheckpointEverySteps = s.GetInt("checkpoint_every_steps", 0, min: 0),
            MaxTrainRows = s.GetInt("max_train_rows", 0, min: 0),
            MaxEvalRows = s.GetInt("max_eval_rows", 0, min: 0),
        };
    }
}
