namespace SharpCtr.Tensors.Nn;

/// <summary>
/// A piece of a network with named parameters and child modules. <see cref="Parameters"/> walks the
/// tree and yields hierarchical names ("layers.0.attn.q.weight") — the names checkpoints use.
/// The training flag switches dropout and batch statistics (Dice, BatchNorm) for the whole subtree.
/// </summary>
public abstract class Module
{
    public bool Training { get; private set; } = true;

    /// <summary>This module's own parameters, by local name.</summary>
    protected virtual IEnumerable<(string Name, Tensor Value)> LocalParameters() => [];

    /// <summary>State that is saved but not trained (running statistics), by local name.</summary>
    protected virtual IEnumerable<(string Name, Tensor Value)> LocalBuffers() => [];

    /// <summary>Random streams this module draws from while training (dropout), by local name.</summary>
    protected virtual IEnumerable<(string Name, Rng Value)> LocalRngs() => [];

    /// <summary>Direct sub-modules, by local name.</summary>
    protected virtual IEnumerable<(string Name, Module Child)> Children() => [];

    public IEnumerable<(string Name, Tensor Value)> Parameters()
    {
        foreach (var p in LocalParameters()) yield return p;
        foreach (var (name, child) in Children())
            foreach (var (pn, pv) in child.Parameters()) yield return (name + "." + pn, pv);
    }

    public IEnumerable<(string Name, Tensor Value)> Buffers()
    {
        foreach (var b in LocalBuffers()) yield return b;
        foreach (var (name, child) in Children())
            foreach (var (bn, bv) in child.Buffers()) yield return (name + "." + bn, bv);
    }

    /// <summary>
    /// Every random stream in the tree with its path: a checkpoint saves their states so a resumed
    /// run draws the same dropout masks as an uninterrupted one.
    /// </summary>
    public IEnumerable<(string Name, Rng Value)> Rngs()
    {
        foreach (var r in LocalRngs()) yield return r;
        foreach (var (name, child) in Children())
            foreach (var (rn, rv) in child.Rngs()) yield return (name + "." + rn, rv);
    }

    /// <summary>This module ("") and every module below it, with their paths.</summary>
    public IEnumerable<(string Name, Module Value)> Modules()
    {
        yield return ("", this);
        foreach (var (name, child) in Children())
            foreach (var (mn, mv) in child.Modules()) yield return (mn.Length == 0 ? name : name + "." + mn, mv);
    }

    public int ParameterCount()
    {
        int n = 0;
        foreach (var (_, p) in Parameters()) n += p.Size;
        return n;
    }

    /// <summary>Sets training (true) or inference (false) mode on this module and all below it, and unfreezes it.</summary>
    public void Train(bool training = true)
    {
        Training = training;
        Frozen(false);
        foreach (var (_, child) in Children()) child.Train(training);
    }

    public void Eval() => Train(false);

    /// <summary>
    /// Inference mode with a promise: the weights stay as they are until the next <see cref="Train"/>
    /// or <see cref="Eval"/>. Layers may then keep inference-only copies of their weights (Linear
    /// packs its weight for the fused scoring kernels). For a loaded bundle and latency benchmarks;
    /// anything that writes weights afterwards must call Train or Eval first (Linear also drops
    /// its copy when a sample of its weights has changed, a guard rather than a guarantee).
    /// </summary>
    public void Freeze()
    {
        Training = false;
        Frozen(true);
        foreach (var (_, child) in Children()) child.Freeze();
    }

    /// <summary>Called with true by <see cref="Freeze"/>, with false by <see cref="Train"/> and <see cref="Eval"/>.</summary>
    protected virtual void Frozen(bool frozen) { }

    public void ZeroGrad()
    {
        foreach (var (_, p) in Parameters()) p.ZeroGrad();
    }
}
