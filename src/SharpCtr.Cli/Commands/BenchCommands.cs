using System.CommandLine;
using System.Text.Json;
using SharpCtr.Tensors.Kernels;

namespace SharpCtr.Cli.Commands;

/// <summary>`sharpctr bench …`: benchmarks that print numbers.</summary>
public static class BenchCommands
{
    public static Command Build()
    {
        var bench = new Command("bench", "Run a benchmark and print its numbers");
        bench.Subcommands.Add(BuildKernels());
        return bench;
    }

    private static Command BuildKernels()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table" };
        var only = new Option<string?>("--only") { Description = "Run only the measurements whose key contains this text (e.g. gemm, din_unit)" };
        var threads = new Option<int?>("--threads") { Description = "kernel threads (default: up to 2 cores)" }.AtLeast(1);
        var kernels = new Command("kernels", "GEMM GFLOP/s, elementwise GB/s and engine op costs on this machine");
        kernels.Options.Add(json);
        kernels.Options.Add(only);
        kernels.Options.Add(threads);
        kernels.SetAction(parse =>
        {
            if (parse.GetValue(threads) is int t) KernelThreads.Max = Math.Max(1, t);
            RunKernels(parse.GetValue(json), parse.GetValue(only));
            return 0;
        });
        return kernels;
    }

    private static void RunKernels(bool asJson, string? only)
    {
        var results = new Dictionary<string, double?>();
        var measurements = EngineBenchmark.All().Where(m => only is null || m.Key.Contains(only, StringComparison.OrdinalIgnoreCase)).ToList();
        if (!asJson)
        {
            Console.WriteLine($"GEMM backend: {Gemm.Backend}; managed kernel: {(Gemm.BlasAvailable ? "available" : "in use")}; kernel threads: {KernelThreads.Max}");
            // the fused kernels' path: their 16-float vectors are native only with AVX-512 (design note 35)
            Console.WriteLine($"fused kernels: {(System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "AVX-512" : System.Runtime.Intrinsics.X86.Avx2.IsSupported ? "AVX2 (16-float vectors as two 256-bit halves; 256-bit strips for small products)" : "portable (no AVX2)")}");
            Console.WriteLine($"{"key",-42} {"value",10}  unit     what");
        }
        foreach (var m in measurements)
        {
            double? value = m.Measure(results);
            results[m.Key] = value;
            if (!asJson)
                Console.WriteLine($"{m.Key,-42} {(value is double v ? v.ToString("F2") : "n/a"),10}  {m.Unit,-8} {m.Description}");
        }
        if (!asJson) return;
        using var stdout = Console.OpenStandardOutput();
        using var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true });
        writer.WriteStartObject();
        writer.WriteString("gemm_backend", Gemm.Backend);
        writer.WriteNumber("kernel_threads", KernelThreads.Max);
        foreach (var (key, value) in results)
        {
            if (value is double v) writer.WriteNumber(key, Math.Round(v, 3));
            else writer.WriteNull(key);
        }
        writer.WriteEndObject();
        writer.Flush();
        Console.WriteLine();
    }
}
