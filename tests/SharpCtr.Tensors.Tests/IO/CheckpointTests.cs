using SharpCtr.Tensors.IO;
using SharpCtr.Tensors.Optim;

namespace SharpCtr.Tensors.Tests.IO;

public sealed class CheckpointTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "sharpctr-checkpoint-" + Guid.NewGuid().ToString("N"));

    public CheckpointTests() => Directory.CreateDirectory(dir);
    public void Dispose() => Directory.Delete(dir, recursive: true);

    static Tensor[] Model(int seed)
    {
        var rng = new Rng((ulong)seed);
        var w = Tensor.Parameter("mlp.0.weight", 4, 3);
        var b = Tensor.Parameter("mlp.0.bias", 3);
        var e = Tensor.Parameter("emb.user", 10, 4);
        foreach (var t in new[] { w, b, e }) for (int i = 0; i < t.Size; i++) t.Data[i] = (float)rng.NextNormal();
        e.SparseGrad = new SparseRowGrad(10, 4);
        return [w, b, e];
    }

    static void FakeStep(Tensor[] ps, Optimizer opt, Rng rng)
    {
        opt.ZeroGrad();
        for (int i = 0; i < 2; i++)
        {
            ps[i].Grad ??= Tensor.Zeros(ps[i].Shape);
            for (int j = 0; j < ps[i].Size; j++) ps[i].Grad!.Data[j] = (float)rng.NextNormal();
        }
        for (int k = 0; k < 3; k++)
        {
            var slot = ps[2].SparseGrad!.Slot(rng.NextInt(10));
            for (int j = 0; j < 4; j++) slot[j] += (float)rng.NextNormal();
        }
        opt.Step();
    }

    static Adam MakeAdam(Tensor[] ps) => new([new ParamGroup(ps[..2], 0.01f, 2.5e-4f), new ParamGroup(ps[2..], 0.02f, 5e-4f)]);

    [Fact]
    public void ResumedTrainingMatchesUninterruptedTraining()
    {
        // uninterrupted: 6 steps
        var a = Model(1); var optA = MakeAdam(a); var rngA = new Rng(7);
        for (int s = 0; s < 6; s++) FakeStep(a, optA, rngA);

        // interrupted after 3 steps, saved, loaded into a fresh model/optimizer, 3 more steps
        var b = Model(1); var optB = MakeAdam(b); var rngB = new Rng(7);
        for (int s = 0; s < 3; s++) FakeStep(b, optB, rngB);
        optB.ScaleLearningRates(1f);
        var path = Path.Combine(dir, "ckpt.safetensors");
        Checkpoint.Save(path, b, optB, new Dictionary<string, string> { ["epoch"] = "1", ["rng"] = Checkpoint.RngState(rngB), ["position"] = "1234" });

        var c = Model(99); var optC = MakeAdam(c); var rngC = new Rng(12345);
        var meta = Checkpoint.Load(path, c, optC);
        Assert.Equal("1", meta["epoch"]);
        Assert.Equal("1234", meta["position"]);
        Assert.DoesNotContain(meta.Keys, k => k.StartsWith("optim/"));
        Checkpoint.RestoreRng(rngC, meta["rng"]);
        Assert.Equal(3, optC.States[0].Step);
        for (int s = 0; s < 3; s++) FakeStep(c, optC, rngC);

        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i].ToArray(), c[i].ToArray());
        for (int i = 0; i < a.Length; i++)
            for (int k = 0; k < 2; k++) Assert.Equal(optA.States[i].Buffers[k].ToArray(), optC.States[i].Buffers[k].ToArray());
    }

    [Fact]
    public void OptimizerStateIsStoredUnderReadableNames()
    {
        var ps = Model(2); var opt = MakeAdam(ps);
        FakeStep(ps, opt, new Rng(3));
        var path = Path.Combine(dir, "names.safetensors");
        Checkpoint.Save(path, ps, opt);
        var (tensors, meta) = SafeTensors.Load(path);
        Assert.Equal(["emb.user", "mlp.0.bias", "mlp.0.weight",
                      "optim/emb.user/exp_avg", "optim/emb.user/exp_avg_sq", "optim/mlp.0.bias/exp_avg", "optim/mlp.0.bias/exp_avg_sq",
                      "optim/mlp.0.weight/exp_avg", "optim/mlp.0.weight/exp_avg_sq"], tensors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("1", meta["optim/mlp.0.weight/step"]);
        Assert.Equal("Adam", meta["optim/type"]);
        Assert.Equal(opt.States[0].Buffers[1].ToArray(), tensors["optim/mlp.0.weight/exp_avg_sq"].ToArray());
    }

    [Fact]
    public void WeightsLoadWithoutOptimizer()
    {
        var ps = Model(4); var opt = MakeAdam(ps);
        var path = Path.Combine(dir, "w.safetensors");
        Checkpoint.Save(path, ps, opt);
        var fresh = Model(5);
        Checkpoint.Load(path, fresh);
        for (int i = 0; i < ps.Length; i++) Assert.Equal(ps[i].ToArray(), fresh[i].ToArray());
    }

    [Fact]
    public void MismatchListsEveryProblemAndChangesNothing()
    {
        var ps = Model(6);
        var path = Path.Combine(dir, "m.safetensors");
        Checkpoint.Save(path, ps);

        var other = new[] { Tensor.Parameter("mlp.0.weight", 4, 5), Tensor.Parameter("mlp.0.bias", 3), Tensor.Parameter("mlp.1.weight", 2) };
        other[1].Data[0] = 42f;
        var ex = Assert.Throws<CheckpointMismatchException>(() => Checkpoint.Load(path, other));
        Assert.Equal(3, ex.Problems.Count);
        Assert.Contains(ex.Problems, p => p.Contains("missing tensor 'mlp.1.weight'"));
        Assert.Contains(ex.Problems, p => p.Contains("unexpected tensor 'emb.user'"));
        Assert.Contains(ex.Problems, p => p.Contains("shape mismatch for 'mlp.0.weight'") && p.Contains("[4, 3]") && p.Contains("[4, 5]"));
        Assert.Contains(path, ex.Message);
        Assert.Equal(42f, other[1].Data[0]);   // validated before loading anything
    }

    [Fact]
    public void LoadingOptimizerStateFromWeightsOnlyFileFails()
    {
        var ps = Model(8);
        var path = Path.Combine(dir, "weights.safetensors");
        Checkpoint.Save(path, ps);
        var ex = Assert.Throws<CheckpointMismatchException>(() => Checkpoint.Load(path, ps, MakeAdam(ps)));
        Assert.Contains(ex.Problems, p => p.Contains("missing tensor 'optim/emb.user/exp_avg'"));
        Assert.Contains(ex.Problems, p => p.Contains("optimizer type"));
        Assert.Contains(ex.Problems, p => p.Contains("missing metadata 'optim/mlp.0.bias/step'"));
    }

    [Fact]
    public void SaveIsAtomicAndRejectsUnnamedOrReservedInput()
    {
        var ps = Model(9);
        var path = Path.Combine(dir, "a.safetensors");
        Checkpoint.Save(path, ps);
        Assert.Throws<ArgumentException>(() => Checkpoint.Save(path, [Tensor.Zeros(2)]));
        Assert.Throws<ArgumentException>(() => Checkpoint.Save(path, ps, null, new Dictionary<string, string> { ["optim/x"] = "1" }));
        Assert.Equal(["a.safetensors"], Directory.GetFiles(dir).Select(Path.GetFileName));   // no temporaries left, old file intact
        Checkpoint.Load(path, Model(10));
    }

    [Fact]
    public void RngStateRoundTrips()
    {
        var r = new Rng(11);
        r.NextNormal();   // leaves a spare normal in the state
        var s = Checkpoint.RngState(r);
        var q = new Rng(0);
        Checkpoint.RestoreRng(q, s);
        for (int i = 0; i < 5; i++) Assert.Equal(r.NextNormal(), q.NextNormal());
        Assert.Throws<FormatException>(() => Checkpoint.RestoreRng(q, "zz:1"));
    }
}
