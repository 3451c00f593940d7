using System.Text.Json;
using SharpCtr.Tensors.Optim;

namespace SharpCtr.Tensors.Tests.Optim;

/// <summary>
/// Every optimizer against torch.optim on fixed inputs (tools/torch/make_optim_fixtures.py):
/// same initial parameters, same gradients for 4 steps, parameters after each step must match.
/// </summary>
public class TorchOptimizerOracleTests
{
    static readonly Lazy<JsonDocument> Fixture = new(() => JsonDocument.Parse(File.ReadAllText(FixtureFiles.PathOf("optim.json"))));

    static JsonElement Case(string name)
    {
        foreach (var c in Fixture.Value.RootElement.GetProperty("cases").EnumerateArray())
            if (c.GetProperty("name").GetString() == name) return c;
        throw new KeyNotFoundException(name);
    }

    static float[] Floats(JsonElement a)
    {
        var r = new float[a.GetArrayLength()];
        int i = 0;
        foreach (var x in a.EnumerateArray()) r[i++] = x.GetSingle();
        return r;
    }

    static int[] Ints(JsonElement a)
    {
        var r = new int[a.GetArrayLength()];
        int i = 0;
        foreach (var x in a.EnumerateArray()) r[i++] = x.GetInt32();
        return r;
    }

    static Optimizer Make(string name, List<ParamGroup> groups) => name switch
    {
        "sgd" or "sparse_sgd" => new Sgd(groups),
        "sgd_momentum" => new Sgd(groups, momentum: 0.9f),
        "sgd_nesterov" => new Sgd(groups, momentum: 0.9f, nesterov: true),
        "adam" => new Adam(groups),
        "adam_weight_decay" => new Adam(groups, beta1: 0.8f, beta2: 0.99f, eps: 1e-6f),
        "adamw" => new AdamW(groups),
        "adagrad" => new Adagrad(groups, learningRateDecay: 0.01f),
        "sparse_adam" => new Adam(groups),
        "sparse_adagrad" => new Adagrad(groups),
        _ => throw new ArgumentException(name),
    };

    static (Tensor[] Params, Optimizer Opt) Build(JsonElement c)
    {
        var ps = new List<Tensor>();
        int k = 0;
        foreach (var p in c.GetProperty("params").EnumerateArray())
        {
            var t = Tensor.Parameter($"p{k++}", Ints(p.GetProperty("shape")));
            Floats(p.GetProperty("init")).CopyTo(t.Data, 0);
            ps.Add(t);
        }
        var groups = new List<ParamGroup>();
        foreach (var g in c.GetProperty("groups").EnumerateArray())
        {
            var members = Ints(g.GetProperty("params")).Select(i => ps[i]);
            groups.Add(new ParamGroup(members, g.GetProperty("lr").GetSingle(), g.GetProperty("weight_decay").GetSingle()));
        }
        return (ps.ToArray(), Make(c.GetProperty("name").GetString()!, groups));
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("sgd_momentum")]
    [InlineData("sgd_nesterov")]
    [InlineData("adam")]
    [InlineData("adam_weight_decay")]
    [InlineData("adamw")]
    [InlineData("adagrad")]
    public void DenseStepsMatchTorch(string name)
    {
        var c = Case(name);
        var (ps, opt) = Build(c);
        int step = 0;
        foreach (var s in c.GetProperty("steps").EnumerateArray())
        {
            opt.ZeroGrad();
            var grads = s.GetProperty("grads").EnumerateArray().ToArray();
            for (int i = 0; i < ps.Length; i++)
            {
                ps[i].Grad ??= Tensor.Zeros(ps[i].Shape);
                Floats(grads[i]).CopyTo(ps[i].Grad!.Data, 0);
            }
            opt.Step();
            step++;
            var after = s.GetProperty("after").EnumerateArray().ToArray();
            for (int i = 0; i < ps.Length; i++) AssertMaxAbs(Floats(after[i]), ps[i].Data, 2e-5f, $"{name} step {step} param {i}");
        }
    }

    [Theory]
    [InlineData("sparse_adam")]
    [InlineData("sparse_adagrad")]
    [InlineData("sparse_sgd")]
    public void LazyRowStepsMatchTorchSparse(string name)
    {
        var c = Case(name);
        var (ps, opt) = Build(c);
        var table = ps[0];
        int vocab = table.Shape[0], dim = table.Shape[1];
        table.SparseGrad = new SparseRowGrad(vocab, dim);
        int step = 0;
        foreach (var s in c.GetProperty("steps").EnumerateArray())
        {
            opt.ZeroGrad();
            var ids = Ints(s.GetProperty("ids"));
            var rowGrads = Floats(s.GetProperty("row_grads"));
            for (int k = 0; k < ids.Length; k++)
            {
                var slot = table.SparseGrad.Slot(ids[k]);
                for (int j = 0; j < dim; j++) slot[j] += rowGrads[k * dim + j];
            }
            opt.Step();
            step++;
            Assert.Null(table.Grad);
            AssertMaxAbs(Floats(s.GetProperty("after")[0]), table.Data, 2e-5f, $"{name} step {step}");
        }
    }

    [Fact]
    public void ClipByGlobalNormMatchesTorch()
    {
        var c = Fixture.Value.RootElement.GetProperty("clip");
        var grads = c.GetProperty("grads").EnumerateArray().Select(Floats).ToArray();
        var a = Tensor.Parameter("a", 3, 4);
        var b = Tensor.Parameter("b", 5);
        a.Grad = Tensor.FromArray(grads[0], 3, 4);
        b.Grad = Tensor.FromArray(grads[1], 5);
        float norm = GradientClipping.ClipByGlobalNorm([a, b], c.GetProperty("max_norm").GetSingle());
        Assert.Equal(c.GetProperty("norm").GetSingle(), norm, 1e-4);
        var clipped = c.GetProperty("clipped").EnumerateArray().Select(Floats).ToArray();
        AssertMaxAbs(clipped[0], a.Grad.Data, 1e-6f, "clipped a");
        AssertMaxAbs(clipped[1], b.Grad.Data, 1e-6f, "clipped b");
    }

    internal static void AssertMaxAbs(float[] expected, float[] actual, float tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = 0; int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            float d = MathF.Abs(expected[i] - actual[i]);
            if (!(d <= worst)) { worst = d; at = i; }
        }
        Assert.True(worst <= tol, $"{what}: max abs error {worst} at {at} (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)})");
    }
}
