using System.Runtime.InteropServices;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// Variables OpenBLAS reads from the native environment when it loads. .NET's
/// Environment.SetEnvironmentVariable does not touch the native environ on Linux, hence libc
/// setenv; a value set after the library has loaded has no effect, hence <see cref="Loading"/>.
/// Kept apart from <see cref="OpenBlas"/> so that setting a variable does not load the library.
/// </summary>
internal static class OpenBlasEnvironment
{
    /// <summary>True once <see cref="OpenBlas"/>'s static constructor has run (loaded the library, found none, or was told not to).</summary>
    internal static bool Loading;

    /// <summary>Whether <see cref="Gemm.SleepBlasThreadsBetweenCalls"/> set OPENBLAS_THREAD_TIMEOUT before the load.</summary>
    internal static bool ThreadsSleep;

    /// <summary>Puts a variable in the native environment unless it is already set; true when it did.</summary>
    internal static bool SetIfUnset(string name, string value)
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))) return false;
        try
        {
            return setenv(name, value, 0) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
}
