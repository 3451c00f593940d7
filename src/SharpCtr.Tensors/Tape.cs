namespace SharpCtr.Tensors;

/// <summary>
/// A scope of tensor work on the current thread. A recording tape (<see cref="Train"/>) remembers
/// how each result was made so <see cref="Backward"/> can run the chain rule in reverse; an
/// inference tape (<see cref="Inference"/>) records nothing. Either way, temporaries created in
/// the scope borrow pooled arrays that go back to the pool when the scope is disposed — copy out
/// (<see cref="Tensor.Clone"/> / <see cref="Tensor.ToArray"/>) anything needed afterwards.
/// Without any scope, ops record nothing and allocate ordinary arrays.
/// </summary>
public sealed class Tape : IDisposable
{
    [ThreadStatic] static Tape? current;
    public static Tape? Current => current;

    /// <summary>True when the current scope records gradients.</summary>
    public static bool IsRecording => current is { Recording: true };

    public readonly bool Recording;
    readonly Tape? previous;
    // The lists are reused by the next scope on this thread (a step opens one scope per batch).
    readonly Lists lists;
    bool disposed;
    [ThreadStatic] static Lists? spareLists;

    sealed class Lists
    {
        public readonly List<BackwardStep> Backward = new();
        public readonly List<Tensor> Owned = new();
        public readonly List<Tensor> OwnedGrads = new();
        public readonly List<Tensor> Views = new();
    }

    Tape(bool recording)
    {
        Recording = recording;
        previous = current;
        lists = spareLists ?? new Lists();
        spareLists = null;
        current = this;
    }

    List<BackwardStep> backward => lists.Backward;
    List<Tensor> owned => lists.Owned;
    List<Tensor> ownedGrads => lists.OwnedGrads;
    List<Tensor> views => lists.Views;

    public static Tape Train() => new(recording: true);
    public static Tape Inference() => new(recording: false);

    /// <summary>Whether an op on these inputs must record its backward step.</summary>
    internal static bool Needs(Tensor a) => current is { Recording: true } && a.RequiresGrad;
    internal static bool Needs(Tensor a, Tensor b) => current is { Recording: true } && (a.RequiresGrad || b.RequiresGrad);

    internal static void Record(Tensor result, Action backwardStep)
    {
        result.RequiresGrad = true;
        current!.backward.Add(new BackwardStep(backwardStep));
    }

    /// <summary>
    /// Records a backward step without a closure: <paramref name="step"/> must be a static lambda
    /// (cached by the compiler), called as step(y, a, b, code).
    /// </summary>
    internal static void Record(Tensor y, Tensor a, Tensor b, int code, Action<Tensor, Tensor, Tensor, int> step)
    {
        y.RequiresGrad = true;
        current!.backward.Add(new BackwardStep(step, y, a, b, code));
    }

    internal void Own(Tensor t)
    {
        owned.Add(t);
        t.Owner = this;
    }

    /// <summary>A view shares another tensor's array: its gradient is pooled, its data is not returned.</summary>
    internal void OwnView(Tensor t)
    {
        views.Add(t);
        t.Owner = this;
    }

    internal bool Owns(Tensor t) => ReferenceEquals(t.Owner, this);
    internal void OwnGrad(Tensor g) => ownedGrads.Add(g);

    /// <summary>
    /// Hands <paramref name="y"/>'s gradient buffer to <paramref name="x"/> (which has none yet)
    /// instead of copying it, when both are temporaries of this scope and y's backward step is
    /// running (afterwards nothing reads y.Grad, so y.Grad becomes null). The buffer stays listed
    /// once for return to the pool. Returns false when the move is not allowed: x is a parameter
    /// or belongs to another scope (its gradient must outlive this one), y's gradient was set by
    /// the caller (not pooled), or the shapes differ.
    /// </summary>
    internal static bool TryMoveGrad(Tensor y, Tensor x)
    {
        var tape = current;
        var g = y.Grad;
        if (tape is null || g is null || x.Grad is not null || !g.PooledGrad || !tape.Owns(x) || !Tensor.SameShape(g.Shape, x.Shape)) return false;
        x.Grad = g;
        y.Grad = null;
        return true;
    }

    /// <summary>Number of backward steps recorded so far.</summary>
    public int Count => backward.Count;

    /// <summary>
    /// Back-propagates from a scalar: seeds d(loss)/d(loss) = <paramref name="seed"/> and runs the
    /// recorded steps in reverse. Gradients accumulate into existing <see cref="Tensor.Grad"/>.
    /// </summary>
    public void Backward(Tensor loss, float seed = 1f)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!Recording) throw new InvalidOperationException("Backward() on an inference tape: nothing was recorded");
        if (loss.Size != 1) throw new ArgumentException($"Backward() needs a scalar loss, got shape {Tensor.ShapeString(loss.Shape)}");
        if (!loss.RequiresGrad) throw new InvalidOperationException("the loss does not depend on any parameter that requires a gradient");
        loss.GradBuffer().Data[0] += seed;
        RunBackward();
        backward.Clear();
    }

    /// <summary>
    /// Back-propagates from a tensor whose <see cref="Tensor.Grad"/> the caller has already set
    /// (a vector-Jacobian product; benchmarks and custom losses).
    /// </summary>
    public void BackwardFrom(Tensor output)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!Recording) throw new InvalidOperationException("BackwardFrom() on an inference tape: nothing was recorded");
        if (output.Grad is null) throw new InvalidOperationException("BackwardFrom() needs the output's gradient set");
        RunBackward();
        backward.Clear();
    }

    void RunBackward()
    {
        var steps = backward;
        for (int i = steps.Count - 1; i >= 0; i--) steps[i].Run();
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (current != this) throw new InvalidOperationException("tape scopes must be disposed in reverse order of creation");
        current = previous;
        foreach (var t in ownedGrads) TensorPool.Return(t.Data);
        foreach (var t in owned)
        {
            TensorPool.Return(t.Data);
            t.Data = [];   // a tensor used after its scope fails loudly instead of reading reused memory
            t.Grad = null;
            t.Owner = null;
        }
        foreach (var t in views)
        {
            t.Data = [];
            t.Grad = null;
            t.Owner = null;
        }
        views.Clear();
        owned.Clear();
        ownedGrads.Clear();
        backward.Clear();
        spareLists = lists;
    }
}
