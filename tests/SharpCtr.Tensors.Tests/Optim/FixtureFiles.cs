namespace SharpCtr.Tensors.Tests;

/// <summary>Finds the committed fixtures (tests/SharpCtr.Tensors.Tests/Fixtures) from the test binary's folder.</summary>
static class FixtureFiles
{
    public static string PathOf(string fileName)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "SharpCtr.Tensors.Tests", "Fixtures", fileName);
            if (File.Exists(candidate)) return candidate;
            candidate = Path.Combine(dir.FullName, "Fixtures", fileName);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"fixture {fileName} not found above {AppContext.BaseDirectory}");
    }
}
