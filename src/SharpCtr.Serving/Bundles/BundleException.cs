namespace SharpCtr.Serving.Bundles;

/// <summary>A bundle that cannot be exported or loaded: names the bundle folder, the file and what is wrong.</summary>
public sealed class BundleException(string message) : Exception(message);
