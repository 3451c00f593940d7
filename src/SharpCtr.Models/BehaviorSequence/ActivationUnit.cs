using SharpCtr.Data.Config;
using SharpCtr.Tensors;
using SharpCtr.Tensors.Nn;
using AttentionUnitKernel = SharpCtr.Tensors.Kernels.AttentionUnitKernel;
using InferenceLayer = SharpCtr.Tensors.Kernels.InferenceLayer;

namespace SharpCtr.Models.BehaviorSequence;

/// <summary>
/// DIN's local activation unit as an op graph: each history key k is scored against the target's
/// key q by an MLP over [q, k, q − k, q ⊙ k], computed as q·A + k·B + (q ⊙ k)·C (the same function
/// class; the q part once per sample), and the history is pooled with those weights (no softmax).
/// <see cref="Scores(FeatureEmbeddings.Packed, Tensor, bool)"/> runs it through fused kernels where they
/// cover the configuration: in inference the whole unit in one pass; in training with Dice the whole
/// unit as one tiled op (<see cref="DiceUnit"/>), else the first layer as one op. DIN owns one; CDP uses
/// one for its attention-pooled history (sequence: attention). The caller passes its own training
/// flag to <see cref="Scores(FeatureEmbeddings.Packed, Tensor, bool)"/>: DIN lists the unit's layers
/// as its own children (to keep DIN's parameter names), so the unit's <see cref="Module.Training"/>
/// is not the one that follows DIN's Train/Eval.
/// </summary>
public sealed class ActivationUnit : Module
{
    readonly Linear queryLayer, keyLayer, productLayer;
    readonly Module? act;
    readonly Activation actKind;
    readonly Mlp rest;

    public ActivationUnit(int keyWidth, int[] units, Activation activation, Rng rng)
    {
        queryLayer = new Linear(keyWidth, units[0], rng);
        keyLayer = new Linear(keyWidth, units[0], rng, bias: false);
        productLayer = new Linear(keyWidth, units[0], rng, bias: false);
        actKind = activation;
        act = activation switch { Activation.Dice => new Dice(units[0]), Activation.PRelu => new PRelu(units[0]), _ => null };
        rest = new Mlp(units[0], units[1..], rng, activation, outputDim: 1);
    }

    /// <summary>The unit a model config describes: attention_units ([64, 32]) and attention_activation (dice).</summary>
    public static ActivationUnit FromConfig(ConfigSection c, int keyWidth, Rng rng) =>
        new(keyWidth, ModelConfig.Ints(c, "attention_units", [64, 32], minCount: 1), Activations.Parse(c.GetString("attention_activation", "dice")), rng);

    /// <summary>The unit's modules under DIN's parameter names (att_q, att_k, att_p, att_act, att_mlp).</summary>
    public IEnumerable<(string, Module)> NamedParts()
    {
        yield return ("att_q", queryLayer);
        yield return ("att_k", keyLayer);
        yield return ("att_p", productLayer);
        if (act is not null) yield return ("att_act", act);
        yield return ("att_mlp", rest);
    }

    protected override IEnumerable<(string, Module)> Children() => NamedParts();

    /// <summary>Whether inference may use the fused kernel (DIN's config `fused_inference`, default true); tests compare both paths.</summary>
    public bool UseFusedInference { get; set; } = true;

    /// <summary>Whether the first layer runs as one op (<see cref="Ops.ActivationUnitInput"/>) when histories are not shared —
    /// training batches (DIN's `fused_training`, default true); false keeps the op-by-op graph.</summary>
    public bool UseFusedInput { get; set; } = true;

    /// <summary>With <see cref="UseFusedInput"/>: the whole unit as one tiled op in training mode when its activations are
    /// Dice (DIN's `tiled_training`, default true); false stops after the first layer's op.</summary>
    public bool UseTiled { get; set; } = true;

    /// <summary>[B, K]: the history pooled with the unit's scores of each position against the target key <paramref name="query"/> [B, K].</summary>
    public Tensor Pool(FeatureEmbeddings.Packed packed, Tensor query, bool training) =>
        Ops.SegmentWeightedSum(packed.Keys, Scores(packed, query, training), packed.Offsets, packed.Shared ? packed.RowKey : null);

    /// <summary>Scores [N] of every real history position against its sample's target key.</summary>
    public Tensor Scores(FeatureEmbeddings.Packed packed, Tensor query, bool training)
    {
        if (UseFusedInference && !training && !Tape.IsRecording && FusedLayers() is { } fused) return FusedScores(packed, query, fused);
        if (UseFusedInput && UseTiled && !packed.Shared && training && DiceUnit.Supports(act, rest))
            return DiceUnit.Scores(packed.Keys, query, packed.RowSample, packed.Offsets, keyLayer.Weight, productLayer.Weight, queryLayer.Forward(query), (Dice)act!, rest);
        if (UseFusedInput && !packed.Shared)
            return AfterFirstLayer(Ops.ActivationUnitInput(packed.Keys, query, packed.RowSample, packed.Offsets, keyLayer.Weight, productLayer.Weight, queryLayer.Forward(query)));
        return OpScores(packed, query, keyLayer.Forward(packed.Keys));   // keyProj [U, H]: history-only work
    }

    /// <summary>The unit op by op (shared histories, and any configuration the fused ops do not cover).</summary>
    Tensor OpScores(FeatureEmbeddings.Packed packed, Tensor query, Tensor keyProj)
    {
        var keys = packed.Shared ? Ops.IndexSelect(packed.Keys, packed.RowKey) : packed.Keys;   // [N, K]
        if (packed.Shared) keyProj = Ops.IndexSelect(keyProj, packed.RowKey);
        var qRows = Ops.IndexSelect(query, packed.RowSample);                  // [N, K]
        var h = Ops.Add(Ops.Add(keyProj, productLayer.Forward(Ops.Mul(keys, qRows))),
                        Ops.IndexSelect(queryLayer.Forward(query), packed.RowSample));  // [N, H]
        return AfterFirstLayer(h);
    }

    /// <summary>The unit after its first layer's pre-activation h [N, H]: activation, the rest of its MLP → scores [N].</summary>
    Tensor AfterFirstLayer(Tensor h)
    {
        h = act switch { Dice d => d.Forward(h), PRelu pr => pr.Forward(h), _ => Activations.Apply(actKind, h) };
        return Ops.Reshape(rest.Forward(h), -1);
    }

    /// <summary>The whole unit in one tiled pass, reading keys and query rows through the packed indices.</summary>
    Tensor FusedScores(FeatureEmbeddings.Packed packed, Tensor query, (InferenceLayer First, InferenceLayer[] Hidden) layers)
    {
        var keyProj = keyLayer.Forward(packed.Keys);
        var queryProj = queryLayer.Forward(query);
        int rows = packed.RowSample.Length;
        var scores = Tensor.Temp([rows]);
        var output = rest.Output!;
        AttentionUnitKernel.Scores(packed.Keys.Data, packed.Shared ? packed.RowKey : null, query.Data, packed.RowSample, query.Cols,
            keyProj.Data, queryProj.Data, layers.First, layers.Hidden, output.Weight.Data, output.Bias is null ? 0f : output.Bias.Data[0],
            rows, scores.Data);
        return scores;
    }

    /// <summary>Whether this configuration (activations, widths) has a fused inference path.</summary>
    public bool HasFusedInference => FusedLayers() is not null;

    /// <summary>The unit's layers in the fused kernel's form, or null when the kernel does not cover this configuration.</summary>
    (InferenceLayer First, InferenceLayer[] Hidden)? FusedLayers()
    {
        if (rest.Output is null) return null;   // the unit's Mlp is built without norms, so only activations and widths can rule the kernel out
        var first = InferenceForm.Of(productLayer, act, actKind);
        if (first is null) return null;
        var hidden = new InferenceLayer[rest.Layers.Length];
        for (int i = 0; i < hidden.Length; i++)
            if (InferenceForm.Of(rest.Layers[i], rest.Acts[i], actKind) is { } l) hidden[i] = l; else return null;
        return AttentionUnitKernel.Supports(first.Out, hidden) ? (first, hidden) : null;
    }
}
