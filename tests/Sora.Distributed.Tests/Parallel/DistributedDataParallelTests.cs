using Sora.Distributed.Parallel;
using Sora.Torch;
using Sora.Torch.NN;
using Sora.Torch.Optim;
using Sora.Torch.Tests.Distributed;

namespace Sora.Distributed.Tests.Parallel;

[Collection(nameof(Training.TrainerTests))]
public sealed class DistributedDataParallelTests
{

    // fp32: a sum over ranks is reassociated relative to one process's mean, so results agree to
    // rounding, not bit for bit. 1e-5 relative is ~100 ulps, far below any real discrepancy.
    private const float Tolerance = 1e-5f;

    [Theory]
    [InlineData(2, 64)]
    [InlineData(3, 1L << 20)]
    [InlineData(4, 64)]
    public void Averaged_gradients_equal_one_process_on_the_global_batch(int worldSize, long bucketBytes)
    {
        var (inputs, targets) = RegressionBatches.Batch(seed: 1);
        var reference = GradientsOf(BuildModel(seed: 7), inputs, targets);

        // Ranks other than 0 start from different weights: the broadcast must make them equal.
        var models = Enumerable.Range(0, worldSize).Select(r => BuildModel(seed: r == 0 ? 7UL : 100UL + (ulong)r)).ToArray();
        var results = new float[worldSize][][];
        LocalRanks.Run(worldSize, group =>
        {
            var model = models[group.Rank];
            using var ddp = new DistributedDataParallel(model, group, bucketBytes);
            if (bucketBytes == 64)
            {
                ddp.BucketBytes.Count.Should().BeGreaterThan(1, "small buckets split the model");
            }

            using var scope = Tensor.NewDisposeScope();
            var (x, y) = RegressionBatches.Slice(inputs, targets, group.Rank, worldSize);
            Functional.MseLoss(model.Forward(x), y).Backward();
            ddp.SynchronizeGradients();
            results[group.Rank] = model.Parameters().Select(p => p.Grad()!.ToArray<float>()).ToArray();
        });

        foreach (var rank in Enumerable.Range(0, worldSize))
        {
            for (var i = 0; i < reference.Length; i++)
            {
                results[rank][i].Should().Equal(reference[i], (a, b) => Close(a, b), $"rank {rank}, parameter {i}");
            }
        }
    }

    [Fact]
    public void NoSync_accumulates_locally_and_the_next_backward_reduces_the_sum()
    {
        var (inputs, targets) = RegressionBatches.Batch(seed: 2);
        var reference = GradientsOf(BuildModel(seed: 3), inputs, targets);
        var models = Enumerable.Range(0, 2).Select(_ => BuildModel(seed: 3)).ToArray();
        var results = new float[2][][];
        LocalRanks.Run(2, group =>
        {
            var model = models[group.Rank];
            using var ddp = new DistributedDataParallel(model, group, bucketBytes: 64);
            using var scope = Tensor.NewDisposeScope();
            var (x, y) = RegressionBatches.Slice(inputs, targets, group.Rank, 2);
            var half = x.Size(0) / 2;
            using (ddp.NoSync())
            {
                Functional.MseLoss(model.Forward(x.Narrow(0, 0, half)), y.Narrow(0, 0, half)).Div(2).Backward();
            }

            Functional.MseLoss(model.Forward(x.Narrow(0, half, half)), y.Narrow(0, half, half)).Div(2).Backward();
            ddp.SynchronizeGradients();
            results[group.Rank] = model.Parameters().Select(p => p.Grad()!.ToArray<float>()).ToArray();
        });

        for (var i = 0; i < reference.Length; i++)
        {
            results[0][i].Should().Equal(reference[i], (a, b) => Close(a, b), $"parameter {i}");
            results[1][i].Should().Equal(results[0][i], $"both ranks hold the same gradient for parameter {i}");
        }
    }

    [Fact]
    public void Twenty_AdamW_steps_on_two_ranks_match_one_process_on_the_same_global_batches()
    {
        const int steps = 20;
        var single = BuildModel(seed: 11);
        var singleLosses = Train(single, group: null, steps, rank: 0, worldSize: 1);

        var models = Enumerable.Range(0, 2).Select(_ => BuildModel(seed: 11)).ToArray();
        var losses = new double[2][];
        LocalRanks.Run(2, group => losses[group.Rank] = Train(models[group.Rank], group, steps, group.Rank, 2));

        for (var step = 0; step < steps; step++)
        {
            var global = (losses[0][step] + losses[1][step]) / 2; // each rank's mean over an equal share
            global.Should().BeApproximately(singleLosses[step], Math.Abs(singleLosses[step]) * 1e-4, $"step {step + 1}");
        }

        var expected = single.Parameters().Select(p => p.ToArray<float>()).ToArray();
        var actual = models[1].Parameters().Select(p => p.ToArray<float>()).ToArray();
        for (var i = 0; i < expected.Length; i++)
        {
            actual[i].Should().Equal(expected[i], (a, b) => Math.Abs(a - b) <= 1e-4f * (1 + Math.Abs(b)), $"parameter {i} after {steps} steps");
        }
    }

    private static double[] Train(Module<Tensor, Tensor> model, Sora.Torch.Distributed.ProcessGroup? group, int steps, int rank, int worldSize)
    {
        using var optimizer = new AdamW(model.Parameters(), 1e-2);
        using var ddp = group is null ? null : new DistributedDataParallel(model, group, bucketBytes: 256);
        var losses = new double[steps];
        for (var step = 0; step < steps; step++)
        {
            using var scope = Tensor.NewDisposeScope();
            var (inputs, targets) = RegressionBatches.Batch(seed: 1000UL + (ulong)step);
            var (x, y) = RegressionBatches.Slice(inputs, targets, rank, worldSize);
            optimizer.ZeroGrad();
            var loss = Functional.MseLoss(model.Forward(x), y);
            losses[step] = loss.ItemDouble();
            loss.Backward();
            ddp?.SynchronizeGradients();
            optimizer.Step();
        }

        return losses;
    }

    private static bool Close(float a, float b) => Math.Abs(a - b) <= Tolerance * (Math.Abs(b) + 1e-3f);

    private static Sequential BuildModel(ulong seed)
    {
        lock (typeof(RandomState))
        {
            RandomState.ManualSeed(seed);
            return new Sequential(new Linear(6, 32), new Tanh(), new Linear(32, 32), new Tanh(), new Linear(32, 3));
        }
    }

    private static float[][] GradientsOf(Sequential model, float[] inputs, float[] targets)
    {
        using var scope = Tensor.NewDisposeScope();
        var (x, y) = RegressionBatches.Slice(inputs, targets, 0, 1);
        Functional.MseLoss(model.Forward(x), y).Backward();
        return model.Parameters().Select(p => p.Grad()!.ToArray<float>()).ToArray();
    }

    private sealed class Tanh : Module<Tensor, Tensor>
    {
        public override Tensor Forward(Tensor input) => input.Tanh();
    }
}
