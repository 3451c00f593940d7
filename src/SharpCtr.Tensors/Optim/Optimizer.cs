namespace SharpCtr.Tensors.Optim;

/// <summary>
/// Applies gradients to parameters. Training splits into two phases so data-parallel training
/// can all-reduce gradients in between: <c>tape.Backward(loss)</c> fills gradients, then
/// <see cref="Step"/> applies them; <see cref="ZeroGrad"/> clears them for the next batch.
///
/// A parameter with a dense <see cref="Tensor.Grad"/> gets PyTorch's dense update. A table whose
/// gradient is only a <see cref="SparseRowGrad"/> gets a lazy update: only the touched rows move
/// and only their optimizer state changes (untouched rows' Adam moments are not decayed, momentum
/// is not applied to them), as in torch.optim.SparseAdam. Weight decay, which PyTorch refuses
/// for sparse gradients, is applied to touched rows only. If a parameter has both kinds of
/// gradient, the sparse rows are added into the dense gradient and the dense update is used.
/// A parameter with no gradient at all is skipped, like PyTorch's <c>grad is None</c>.
/// </summary>
public abstract class Optimizer
{
    readonly ParamGroup[] groups;
    readonly ParamState[][] states;   // [group][param]

    protected Optimizer(IEnumerable<ParamGroup> parameterGroups, string[] bufferNames, float initialBufferValue = 0f)
    {
        groups = parameterGroups.ToArray();
        if (groups.Length == 0) throw new ArgumentException("an optimizer needs at least one parameter group");
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var all = new List<Tensor>();
        states = new ParamState[groups.Length][];
        for (int g = 0; g < groups.Length; g++)
        {
            var ps = groups[g].Params;
            states[g] = new ParamState[ps.Length];
            for (int i = 0; i < ps.Length; i++)
            {
                if (!seen.Add(ps[i])) throw new ArgumentException($"parameter '{ps[i].Name ?? "(unnamed)"}' appears more than once in the optimizer's groups");
                states[g][i] = new ParamState(ps[i], bufferNames, initialBufferValue);
                all.Add(ps[i]);
            }
        }
        Parameters = all.ToArray();
        var flat = new List<ParamState>();
        foreach (var s in states) flat.AddRange(s);
        States = flat.ToArray();
    }

    public IReadOnlyList<ParamGroup> Groups => groups;

    /// <summary>All parameters, in group order (e.g. for gradient clipping).</summary>
    public Tensor[] Parameters { get; }

    /// <summary>Per-parameter state, in the order of <see cref="Parameters"/> (for checkpoints).</summary>
    public ParamState[] States { get; }

    /// <summary>Sets every group's learning rate (a schedule with one rate).</summary>
    public float LearningRate
    {
        get => groups[0].LearningRate;
        set { foreach (var g in groups) g.LearningRate = value; }
    }

    /// <summary>Sets each group's learning rate to its initial rate times <paramref name="factor"/> (warm-up, decay).</summary>
    public void ScaleLearningRates(float factor)
    {
        foreach (var g in groups) g.LearningRate = g.InitialLearningRate * factor;
    }

    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.ZeroGrad();
    }

    public void Step()
    {
        for (int g = 0; g < groups.Length; g++)
        {
            var group = groups[g];
            foreach (var state in states[g])
            {
                var p = state.Param;
                var sparse = p.SparseGrad is { Count: > 0 } sg ? sg : null;
                if (p.Grad is { } dense)
                {
                    if (sparse is not null) FoldInto(sparse, dense);
                    state.Step++;
                    Begin(group, state, lazy: false);
                    UpdateDense(state, p, dense);
                }
                else if (sparse is not null)
                {
                    if (p.Cols != sparse.Dim) throw new InvalidOperationException($"parameter '{p.Name}' has rows of {p.Cols} but its sparse gradient has rows of {sparse.Dim}");
                    state.Step++;
                    Begin(group, state, lazy: true);
                    UpdateRows(state, sparse);
                }
            }
        }
    }

    /// <summary>Computes this parameter's per-step constants (bias corrections, decayed rate).</summary>
    protected abstract void Begin(ParamGroup group, ParamState state, bool lazy);

    /// <summary>Updates <paramref name="param"/> (the slice at <paramref name="offset"/> of the state's parameter) from <paramref name="grad"/>.</summary>
    protected abstract void Update(ParamState state, int offset, Span<float> param, ReadOnlySpan<float> grad);

    /// <summary>
    /// Updates are elementwise, so a large tensor is split into blocks updated on the kernel helper
    /// threads without changing any result bit (a Parallel.For per parameter queued a pool task
    /// each step and waited for it when the pool thread started late).
    /// </summary>
    void UpdateDense(ParamState state, Tensor p, Tensor grad)
    {
        int n = p.Size, threads = Math.Min(Kernels.KernelThreads.ForThisThread, n / ParallelChunk);
        if (threads <= 1) { Update(state, 0, p.Span, grad.Span); return; }
        var job = new DenseUpdateJob { Optimizer = this, State = state, Param = p.Data, Grad = grad.Data, Size = n };
        Kernels.KernelThreads.Run(job, (n + DenseUpdateJob.Block - 1) / DenseUpdateJob.Block, threads);
    }

    /// <summary>The dense update over a range of blocks (cache-line aligned, so vector loops start aligned).</summary>
    struct DenseUpdateJob : Kernels.IRangeJob
    {
        public const int Block = 1024;
        public Optimizer Optimizer;
        public ParamState State;
        public float[] Param, Grad;
        public int Size;

        public readonly void Run(int start, int end)
        {
            int from = start * Block, to = Math.Min(Size, end * Block);
            Optimizer.Update(State, from, Param.AsSpan(from, to - from), Grad.AsSpan(from, to - from));
        }
    }

    /// <summary>Elements per thread below which splitting costs more than it saves.</summary>
    const int ParallelChunk = 1 << 15;

    /// <summary>Lazy update of the touched rows; optimizers override it to hoist per-row work.</summary>
    protected virtual void UpdateRows(ParamState state, SparseRowGrad grad)
    {
        var rows = grad.Rows;
        int dim = grad.Dim;
        for (int i = 0; i < rows.Length; i++)
        {
            int offset = rows[i] * dim;
            Update(state, offset, state.Param.Data.AsSpan(offset, dim), grad.Values(i));
        }
    }

    static void FoldInto(SparseRowGrad sparse, Tensor dense)
    {
        var rows = sparse.Rows;
        for (int i = 0; i < rows.Length; i++)
        {
            var dst = dense.Data.AsSpan(rows[i] * sparse.Dim, sparse.Dim);
            System.Numerics.Tensors.TensorPrimitives.Add(dst, sparse.Values(i), dst);
        }
        sparse.Clear();
    }
}
