namespace SharpCtr.Tensors;

/// <summary>
/// One recorded backward step: either a closure (most ops) or a shared static function plus the
/// tensors it needs (hot elementwise ops, so recording them allocates no closure).
/// </summary>
internal readonly struct BackwardStep
{
    readonly Action? closure;
    readonly Action<Tensor, Tensor, Tensor, int>? step;
    readonly Tensor? y, a, b;
    readonly int code;

    public BackwardStep(Action closure) { this.closure = closure; }

    public BackwardStep(Action<Tensor, Tensor, Tensor, int> step, Tensor y, Tensor a, Tensor b, int code)
    {
        this.step = step;
        this.y = y;
        this.a = a;
        this.b = b;
        this.code = code;
    }

    public void Run()
    {
        if (closure is not null) closure();
        else step!(y!, a!, b!, code);
    }
}
