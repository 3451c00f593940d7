using System.Text.Json;

namespace SharpCtr.Training.Tests.Metrics;

/// <summary>
/// Reads the JSON fixtures written by tools/sklearn/make_metric_fixtures.py. They live in the
/// source tree (not copied to bin), so walk up from the test binary to find them.
/// </summary>
internal static class Fixtures
{
    public static JsonElement Load(string fileName)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tests", "SharpCtr.Training.Tests", "Fixtures", fileName);
            if (File.Exists(path)) return JsonDocument.Parse(File.ReadAllText(path)).RootElement;
        }
        throw new FileNotFoundException($"Fixture {fileName} not found above {AppContext.BaseDirectory}; run tools/sklearn/make_metric_fixtures.py.");
    }

    public static float[] Floats(JsonElement e)
    {
        var a = new float[e.GetArrayLength()];
        int i = 0;
        foreach (var x in e.EnumerateArray()) a[i++] = (float)x.GetDouble();
        return a;
    }

    public static double[] Doubles(JsonElement e)
    {
        var a = new double[e.GetArrayLength()];
        int i = 0;
        foreach (var x in e.EnumerateArray()) a[i++] = x.GetDouble();
        return a;
    }

    public static int[] Ints(JsonElement e)
    {
        var a = new int[e.GetArrayLength()];
        int i = 0;
        foreach (var x in e.EnumerateArray()) a[i++] = x.GetInt32();
        return a;
    }
}
