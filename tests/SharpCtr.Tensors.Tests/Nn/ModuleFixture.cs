using System.Text.Json;
using SharpCtr.Tensors.Nn;

namespace SharpCtr.Tensors.Tests.Nn;

using Ops = global::SharpCtr.Tensors.Ops;

/// <summary>
/// A PyTorch oracle case written by tools/torch/make_module_fixtures.py: weights under SharpCtr's
/// parameter names, inputs, outputs, the projections of the loss Σ_k Σ out_k ⊙ proj_k, and the
/// gradients of that loss w.r.t. every input and weight.
/// </summary>
sealed class ModuleFixture
{
    public const float Tolerance = 1e-4f;

    public readonly string Name;
    public readonly JsonElement Config;
    readonly Dictionary<string, (int[] Shape, float[] Data)> tensors = new();

    ModuleFixture(string name, JsonElement root)
    {
        Name = name;
        Config = root.GetProperty("config").Clone();
        foreach (var p in root.GetProperty("tensors").EnumerateObject())
        {
            var shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var data = p.Value.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            tensors[p.Name] = (shape, data);
        }
    }

    public static string Directory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "SharpCtr.Tensors.Tests", "Fixtures", "modules");
                if (System.IO.Directory.Exists(candidate)) return candidate;
            }
            throw new DirectoryNotFoundException($"Fixtures/modules not found above {AppContext.BaseDirectory}");
        }
    }

    public static ModuleFixture Load(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, name + ".json")));
        return new ModuleFixture(name, doc.RootElement);
    }

    public int Int(string key) => Config.GetProperty(key).GetInt32();
    public int[] Ints(string key) => Config.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();

    public bool Has(string key) => tensors.ContainsKey(key);

    /// <summary>A fresh tensor holding the stored values of <paramref name="key"/>.</summary>
    public Tensor Get(string key)
    {
        if (!tensors.TryGetValue(key, out var t)) throw new KeyNotFoundException($"fixture {Name} has no tensor '{key}'");
        return Tensor.FromArray((float[])t.Data.Clone(), (int[])t.Shape.Clone());
    }

    /// <summary>Input "in.<paramref name="name"/>", requiring a gradient when the fixture has one for it.</summary>
    public Tensor Input(string name)
    {
        var x = Get("in." + name);
        x.RequiresGrad = Has("grad.in." + name);
        x.Name = name;
        return x;
    }

    /// <summary>Copies every "param.*" into the module by name; both sides must list the same names and shapes.</summary>
    public void LoadParameters(Module module)
    {
        var seen = new HashSet<string>();
        foreach (var (name, p) in module.Parameters())
        {
            var src = Get("param." + name);
            Assert.True(src.Shape.SequenceEqual(p.Shape), $"{Name}: parameter {name} has shape {Tensor.ShapeString(p.Shape)}, fixture {Tensor.ShapeString(src.Shape)}");
            src.Span.CopyTo(p.Span);
            seen.Add(name);
        }
        foreach (var key in tensors.Keys)
            if (key.StartsWith("param.")) Assert.True(seen.Contains(key[6..]), $"{Name}: fixture parameter {key[6..]} is not in the module");
    }

    /// <summary>Σ_k Σ out_k ⊙ proj_k, the loss whose gradients the fixture holds.</summary>
    public Tensor Loss(params (string Name, Tensor Value)[] outputs)
    {
        Tensor? loss = null;
        foreach (var (name, y) in outputs)
        {
            var term = Ops.Sum(Ops.Mul(y, Get("proj." + name)));
            loss = loss is null ? term : Ops.Add(loss, term);
        }
        return loss!;
    }

    public void AssertMatches(string key, Tensor actual)
    {
        var (shape, expected) = tensors.TryGetValue(key, out var t) ? t : throw new KeyNotFoundException($"fixture {Name} has no tensor '{key}'");
        Assert.True(shape.SequenceEqual(actual.Shape), $"{Name} {key}: shape {Tensor.ShapeString(actual.Shape)}, expected {Tensor.ShapeString(shape)}");
        float max = 0; int at = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float e = MathF.Abs(expected[i] - actual.Data[i]);
            if (!(e <= max)) { max = e; at = i; }   // NaN counts as worst
        }
        Assert.True(max <= Tolerance, $"{Name} {key}: max abs error {max} at element {at} (expected {expected[at]}, got {actual.Data[at]})");
    }

    public void AssertInputGrad(Tensor x) => AssertMatches("grad.in." + x.Name, x.Grad ?? Tensor.Zeros(x.Shape));

    public void AssertParameterGrads(Module module)
    {
        foreach (var (name, p) in module.Parameters())
        {
            var g = p.SparseGrad is { } s ? Tensor.FromArray(s.ToDense(p.Shape[0]), p.Shape) : p.Grad ?? Tensor.Zeros(p.Shape);
            AssertMatches("grad.param." + name, g);
        }
    }
}
