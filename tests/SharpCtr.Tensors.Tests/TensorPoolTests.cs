using O = SharpCtr.Tensors.Ops;

namespace SharpCtr.Tensors.Tests;

/// <summary>The per-thread tensor pool stays under its byte cap when shapes keep changing.</summary>
public class TensorPoolTests
{
    /// <summary>Runs on a fresh thread so the pool (and its cap) is this test's alone.</summary>
    static void OnOwnThread(Action body)
    {
        Exception? error = null;
        var thread = new Thread(() => { try { body(); } catch (Exception e) { error = e; } });
        thread.Start();
        thread.Join();
        if (error is not null) throw new Xunit.Sdk.XunitException($"on the pool's thread: {error}");
    }

    [Fact]
    public void ManyDifferentShapesKeepPooledBytesUnderTheCap()
    {
        OnOwnThread(() =>
        {
            const long cap = 4L << 20;
            TensorPool.MaxPooledBytes = cap;
            var w = Tensor.Parameter("w", 1, 8);
            for (int candidates = 1; candidates <= 600; candidates++)
            {
                using (var tape = Tape.Train())
                {
                    var x = Tensor.Full(0.5f, candidates, 8);
                    var h = O.Tanh(O.Mul(x, w));              // [candidates, 8] temporaries
                    var wide = O.Concat([h, h, h, h], 1);       // [candidates, 32]
                    tape.Backward(O.Sum(wide));
                }
                Assert.True(TensorPool.PooledBytes <= cap, $"{TensorPool.PooledBytes} bytes pooled after {candidates} shapes (cap {cap})");
            }
            Assert.True(TensorPool.PooledBytes > cap / 2, "the pool should still be used up to near its cap");
            Assert.True(TensorPool.BucketCount < 600, $"{TensorPool.BucketCount} buckets: dropped sizes must be forgotten");
        });
    }

    [Fact]
    public void RepeatedShapesAllocateAlmostNothingAfterWarmUpEvenAboveTheCap()
    {
        OnOwnThread(() =>
        {
            TensorPool.MaxPooledBytes = 16 * 1024;   // below one step's temporaries: the cap follows the step
            var w = Tensor.Parameter("w", 64, 32);
            var x = Tensor.Full(0.1f, 256, 64);
            void Step()
            {
                using var tape = Tape.Train();
                var h = O.Relu(O.MatMul(x, w));
                tape.Backward(O.Mean(O.Add(h, h)));
            }
            for (int i = 0; i < 5; i++) Step();
            long pooled = TensorPool.PooledBytes;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) Step();
            long perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / 20;
            // Object headers, shapes and a few closures only: far below one [256, 32] buffer (32 KB).
            Assert.True(perStep < 8 * 1024, $"{perStep} bytes allocated per step after warm-up");
            Assert.Equal(pooled, TensorPool.PooledBytes);
            Assert.True(pooled > 16 * 1024 && TensorPool.EffectiveMaxPooledBytes >= pooled);
        });
    }

    [Fact]
    public void AnArrayLargerThanTheCapIsNotPooled()
    {
        OnOwnThread(() =>
        {
            TensorPool.MaxPooledBytes = 1024;
            TensorPool.Return(new float[512]);
            Assert.Equal(0, TensorPool.PooledBytes);
            TensorPool.Return(new float[200]);
            TensorPool.Return(new float[100]);      // 1200 B > cap: the least recently used size goes
            Assert.Equal(400, TensorPool.PooledBytes);
            Assert.Equal(100, TensorPool.Rent(100).Length);
            Assert.Equal(0, TensorPool.PooledBytes);
        });
    }
}
