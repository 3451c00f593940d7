namespace SharpCtr.Tensors.Nn;

/// <summary>Activation choices for <see cref="Mlp"/>; PRelu and Dice carry learned parameters per layer.</summary>
public enum Activation { None, Relu, PRelu, Dice, Gelu, Tanh, Sigmoid }

public static class Activations
{
    public static Activation Parse(string name) => name.ToLowerInvariant() switch
    {
        "none" or "linear" or "identity" => Activation.None,
        "relu" => Activation.Relu,
        "prelu" => Activation.PRelu,
        "dice" => Activation.Dice,
        "gelu" => Activation.Gelu,
        "tanh" => Activation.Tanh,
        "sigmoid" => Activation.Sigmoid,
        _ => throw new ArgumentException($"unknown activation '{name}' (expected none, relu, prelu, dice, gelu, tanh or sigmoid)"),
    };

    /// <summary>The parameter-free activations; PRelu and Dice need their module.</summary>
    public static Tensor Apply(Activation a, Tensor x) => a switch
    {
        Activation.None => x,
        Activation.Relu => Ops.Relu(x),
        Activation.Gelu => Ops.Gelu(x),
        Activation.Tanh => Ops.Tanh(x),
        Activation.Sigmoid => Ops.Sigmoid(x),
        _ => throw new ArgumentException($"activation {a} has parameters; use its module"),
    };
}
