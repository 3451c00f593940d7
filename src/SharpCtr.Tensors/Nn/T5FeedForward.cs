namespace SharpCtr.Tensors.Nn;

/// <summary>T5's feed-forward block: wo(dropout(relu(wi(x)))), both projections without bias.</summary>
public sealed class T5FeedForward : Module
{
    public readonly Linear Wi, Wo;
    public readonly float DropoutP;
    readonly Rng dropoutRng;
    protected override IEnumerable<(string, Rng)> LocalRngs() { yield return ("dropout", dropoutRng); }

    public T5FeedForward(int dModel, int dFf, Rng rng, float dropout = 0f)
    {
        Wi = new Linear(dModel, dFf, rng, bias: false);
        Wo = new Linear(dFf, dModel, rng, bias: false);
        // T5's initialisation: N(0, 1/fan-in).
        Init.Normal(Wi.Weight, rng, 1f / MathF.Sqrt(dModel));
        Init.Normal(Wo.Weight, rng, 1f / MathF.Sqrt(dFf));
        DropoutP = dropout;
        dropoutRng = rng.Fork();
    }

    protected override IEnumerable<(string, Module)> Children()
    {
        yield return ("wi", Wi);
        yield return ("wo", Wo);
    }

    public Tensor Forward(Tensor x)
    {
        var h = Ops.Relu(Wi.Forward(x));
        if (Training && DropoutP > 0) h = Ops.Dropout(h, DropoutP, dropoutRng);
        return Wo.Forward(h);
    }
}
