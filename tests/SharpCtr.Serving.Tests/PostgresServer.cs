using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SharpCtr.Serving.Tests;

/// <summary>
/// A real PostgreSQL for the store tests: $SHARPCTR_POSTGRES (a connection string) when set,
/// otherwise a throw-away cluster under /tmp started with Debian's initdb/pg_ctl on a free
/// loopback port (as the postgres user when the tests run as root) and stopped at the end.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    public const string EnvironmentVariable = "SHARPCTR_POSTGRES";

    /// <summary>Why no server can be had here, or null when one can (checked without starting it).</summary>
    public static string? Unavailable
    {
        get
        {
            if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 }) return null;
            if (BinDir() is null) return $"no PostgreSQL: ${EnvironmentVariable} is unset and initdb/pg_ctl are not installed (Debian: apt-get install postgresql)";
            if (Environment.UserName == "root" && !File.Exists("/usr/sbin/runuser")) return "no PostgreSQL: running as root and runuser is missing, so initdb cannot run as another user";
            return null;
        }
    }

    public string ConnectionString { get; }
    readonly string? dataDir;
    readonly string? bin;

    public PostgresServer()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } given) { ConnectionString = given; return; }
        bin = BinDir() ?? throw new InvalidOperationException(Unavailable);
        var root = Path.Combine("/tmp", "sharpctr-pg-" + Guid.NewGuid().ToString("N")[..8]);
        dataDir = Path.Combine(root, "data");
        Directory.CreateDirectory(root);
        if (Environment.UserName == "root") Run("chown", "-R", "postgres", root);
        int port = FreePort();
        RunAs(Path.Combine(bin, "initdb"), "-D", dataDir, "-U", "sharpctr", "-A", "trust", "-E", "UTF8", "--no-sync");
        RunAs(Path.Combine(bin, "pg_ctl"), "-D", dataDir, "-l", Path.Combine(root, "server.log"), "-w", "-t", "60",
            "-o", $"-p {port} -c listen_addresses=127.0.0.1 -k {root} -F", "start");
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=sharpctr;Database=postgres;Timeout=30";
    }

    static string? BinDir()
    {
        foreach (var dir in new[] { "/usr/local/bin", "/usr/bin" }.Concat(Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql").Order().Reverse().Select(d => Path.Combine(d, "bin")) : []))
            if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"))) return dir;
        return null;
    }

    static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    static void RunAs(string exe, params string[] args)
    {
        if (Environment.UserName == "root") Run("/usr/sbin/runuser", ["-u", "postgres", "--", exe, .. args]);
        else Run(exe, args);
    }

    static void Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/tmp" };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} {string.Join(' ', args)} exited with {p.ExitCode}: {stderr}{stdout.Result}");
    }

    public void Dispose()
    {
        if (dataDir is null || bin is null) return;
        try { RunAs(Path.Combine(bin, "pg_ctl"), "-D", dataDir, "-m", "immediate", "-w", "stop"); }
        catch (InvalidOperationException) { }
        try { Directory.Delete(Path.GetDirectoryName(dataDir)!, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A fact that reports "skipped" with the reason when no PostgreSQL server can be had.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresServer.Unavailable is { } reason) Skip = reason;
    }
}
