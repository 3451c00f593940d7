using SharpCtr.Data.Config;
using SharpCtr.Models.BehaviorSequence;
using SharpCtr.Models.FeatureInteraction;

namespace SharpCtr.Models;

/// <summary>Config name → model constructor. A new model is one file plus one line here.</summary>
public static class ModelRegistry
{
    static readonly Dictionary<string, Func<ModelContext, CtrModel>> constructors = new(StringComparer.OrdinalIgnoreCase)
    {
        ["lr"] = c => new LogisticRegression(c),
        ["fm"] = c => new FactorizationMachine(c),
        ["deepfm"] = c => new DeepFm(c),
        ["din"] = c => new Din(c),
        ["fwfm"] = c => new FwFm(c),
        ["nfm"] = c => new Nfm(c),
        ["pnn"] = c => new Pnn(c),
        ["dcnv2"] = c => new DcnV2(c),
        ["autoint_plus"] = c => new AutoIntPlus(c),
        ["xdeepfm"] = c => new XDeepFm(c),
        ["afn_plus"] = c => new AfnPlus(c),
        ["fignn"] = c => new FiGnn(c),
        ["rfm"] = c => new Rfm(c),
        ["sfg"] = c => new Sfg(c),
        ["dien"] = c => new Dien(c),
        ["twin"] = c => new Twin(c),
        ["hstu"] = c => new Hstu(c),
        ["qin"] = c => new Qin(c),
        ["ddrm"] = c => new Diffusion.Ddrm(c),
        ["mirrn"] = c => new Mirrn(c),
        ["cdp"] = c => new Diffusion.Cdp(c),
        ["sim"] = c => new Sim(c),
        ["diffrec"] = c => new Diffusion.DiffRecStyle(c),
        ["genci"] = c => new Generative.GenCi(c),
    };

    public static IEnumerable<string> Names => constructors.Keys.Order();

    public static CtrModel Create(ModelContext ctx)
    {
        var name = ctx.Config.GetString("name");
        if (!constructors.TryGetValue(name, out var make))
        {
            var near = EditDistance.Closest(name, constructors.Keys);
            throw new ConfigException($"{ctx.Config.Where}: unknown model '{name}'{(near is null ? "" : $" (did you mean '{near}'?)")}; known: {string.Join(", ", Names)}");
        }
        CtrModel model;
        try { model = make(ctx); }
        catch (ArgumentException e)
        {
            // Each key is range-checked where it is read; what is left is a combination of valid values
            // no layer can take (a head count that does not divide a width, a table too large for an array).
            throw new ConfigException($"{ctx.Config.Where}: model '{name}' cannot be built from this configuration: {e.Message}");
        }
        ctx.Config.Validate();
        // Checkpoints address tensors by name: give every parameter and buffer its path in the module tree.
        foreach (var (path, p) in model.Parameters()) p.Name = path;
        foreach (var (path, b) in model.Buffers()) b.Name = path;
        return model;
    }
}

/// <summary>Reading model hyper-parameters shared by several models.</summary>
public static class ModelConfig
{
    /// <summary>A list of layer widths (`mlp: [256, 128]`): each a positive integer.</summary>
    public static int[] Ints(ConfigSection c, string key, int[] @default, int minCount = 0) => c.GetIntList(key, @default, min: 1, minCount).ToArray();

    /// <summary>The non-sequence fields a model uses: `fields:` if given, else all of the schema's.</summary>
    public static List<string> Fields(ConfigSection c, FeatureEmbeddings emb) =>
        c.Has("fields") ? c.GetStringList("fields") : emb.FieldNames.ToList();
}
