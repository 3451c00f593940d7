using SharpCtr.Data.Batching;
using SharpCtr.Data.Config;
using SharpCtr.Tensors;

namespace SharpCtr.Models.BehaviorSequence;

/// <summary>
/// The target item written like a history key: the target's fields that draw ids from the
/// history's vocabularies ([item, sides...]), so target and history positions live in one space.
/// </summary>
public static class TargetQuery
{
    public static string[] Fields(ModelContext ctx, string model)
    {
        var seq = ctx.Schema.Sequence ?? throw new ConfigException($"{ctx.Config.Where}: {model} needs a data set with a behaviour sequence");
        return new[] { seq.Source }.Concat(seq.Sides.Select(s => s.Source))
            .Select(src => ctx.Schema.Fields.FirstOrDefault(f => f.Source == src)?.Name
                ?? throw new ConfigException($"{ctx.Config.Where}: no target field draws ids from '{src}', which the history uses"))
            .ToArray();
    }

    /// <summary>
    /// [B, Dim·(1 + sides)]: the target's key. Where the history keeps one id per position (an
    /// item's first genre) the target uses its first id too; where it keeps them all (a
    /// multi-valued side), the target's mean of all of them, as each history position has.
    /// </summary>
    public static Tensor Embed(FeatureEmbeddings emb, Batch b, string[] fields) =>
        Ops.Concat(fields.Select((f, i) => i > 0 && emb.SequenceSideIsMulti(i - 1) ? emb.Field(b, f) : emb.FirstOf(b, f)).ToArray(), 1);
}
