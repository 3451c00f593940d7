namespace SharpCtr.Data.Config;

/// <summary>A configuration error; the message names the file, the line and the key.</summary>
public sealed class ConfigException(string message) : Exception(message);
