namespace SharpCtr.Training.Progress;

/// <summary>A named loss value shown on the progress line (e.g. "bce" 0.41, "aux" 0.02).</summary>
public readonly record struct LossTerm(string Name, double Value);
