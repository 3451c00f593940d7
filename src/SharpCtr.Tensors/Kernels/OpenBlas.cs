using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace SharpCtr.Tensors.Kernels;

/// <summary>
/// OpenBLAS's <c>cblas_sgemm</c>, loaded at run time so the project works without it.
/// On these virtual machines OpenBLAS mis-detects the CPU and picks a slow kernel; forcing the
/// SkylakeX core type (when the CPU has AVX-512 and the user has not chosen one) is worth ~7×.
/// The variable must be in the native environment before the library loads (<see cref="OpenBlasEnvironment"/>).
/// </summary>
internal static unsafe class OpenBlas
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private static readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> sgemm;
    private static readonly delegate* unmanaged<int, void> setNumThreads;
    private static readonly delegate* unmanaged<byte*> getCoreName;
    private static int currentThreads = -1;
    private static readonly object threadsLock = new();

    public static bool IsAvailable { get; }
    public static string Description { get; } = "not loaded";

    /// <summary>The core type OpenBLAS runs (openblas_get_corename), or "?" when not loaded or not reported.</summary>
    public static string Core { get; } = "?";

    /// <summary>Whether an OpenBLAS core type uses AVX-512 kernels (0.3.21's SkylakeX, Cooperlake, SapphireRapids).</summary>
    public static bool HasAvx512Kernels(string core) =>
        core.Equals("SkylakeX", StringComparison.OrdinalIgnoreCase) || core.Equals("Cooperlake", StringComparison.OrdinalIgnoreCase)
        || core.Equals("SapphireRapids", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Whether OpenBLAS's own threads give the same bits as one thread. True of its AVX-512 cores
    /// (tested on the Cascade Lake VM); its Haswell/Zen cores round differently with 2 threads
    /// (1024×320×256 on Zen 3 and Zen 5: 1.9572484 vs 1.9572463), so there <see cref="Gemm"/>
    /// cuts the product along M over its own threads and calls OpenBLAS with one thread per part.
    /// </summary>
    public static bool ThreadsKeepBits => HasAvx512Kernels(Core);

    static OpenBlas()
    {
        OpenBlasEnvironment.Loading = true;
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        // Lets a machine that has the library behave as one without it (CI of the fallback path).
        if (string.Equals(Environment.GetEnvironmentVariable("SHARPCTR_OPENBLAS"), "off", StringComparison.OrdinalIgnoreCase))
        {
            Description = "disabled by SHARPCTR_OPENBLAS=off";
            return;
        }
        bool forcedCore = Avx512F.IsSupported && OpenBlasEnvironment.SetIfUnset("OPENBLAS_CORETYPE", "SkylakeX");
        foreach (var name in new[] { "libopenblas.so.0", "libopenblas.so", "libopenblasp-r0.3.21.so" })
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out var f)) continue;
            sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)f;
            if (NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out var t))
                setNumThreads = (delegate* unmanaged<int, void>)t;
            if (NativeLibrary.TryGetExport(handle, "openblas_get_corename", out var c))
                getCoreName = (delegate* unmanaged<byte*>)c;
            string core = Core = getCoreName != null ? Marshal.PtrToStringAnsi((nint)getCoreName()) ?? "?" : "?";
            Description = $"OpenBLAS ({name}, core {core}{(forcedCore ? ", forced via OPENBLAS_CORETYPE" : "")}{(OpenBlasEnvironment.ThreadsSleep ? ", threads sleep between calls" : "")})";
            IsAvailable = true;
            return;
        }
    }

    /// <summary>OpenBLAS keeps one global thread count; set it only when it changes.</summary>
    private static void SetThreads(int threads)
    {
        if (setNumThreads == null || threads == currentThreads) return;
        lock (threadsLock)
        {
            setNumThreads(threads);
            currentThreads = threads;
        }
    }

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, int threads)
    {
        SetThreads(threads);
        sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}
