using Sora.Distributed.Parallel;
using Sora.Torch;
using Sora.Torch.Distributed;
using Sora.Torch.NN;
using Sora.Torch.Optim;
using Sora.Torch.Tests.Distributed;

namespace Sora.Distributed.Tests.Parallel;

[Collection(nameof(Training.TrainerTests))]
public sealed class FullyShardedDataParallelTests
{
    private const int Width = 10; // odd sizes: units do not divide evenly by 2 or 3 ranks, so padding is exercised

    [Theory]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(4, true)]
    public void Shard_gradients_are_the_slices_of_the_one_process_gradient(int worldSize, bool prefetch)
    {
        var (inputs, targets) = RegressionBatches.Batch(seed: 5);
        var reference = BuildModel(seed: 9);
        using (Tensor.NewDisposeScope())
        {
            var (x, y) = RegressionBatches.Slice(inputs, targets, 0, 1);
            Functional.MseLoss(reference.Forward(x), y).Backward();
        }

        var models = Enumerable.Range(0, worldSize).Select(r => BuildModel(seed: r == 0 ? 9UL : 50UL + (ulong)r)).ToArray();
        var gathered = new float[worldSize][][];
        LocalRanks.Run(worldSize, group =>
        {
            var model = models[group.Rank];
            using var fsdp = new FullyShardedDataParallel(model, model.Blocks, group, prefetch);
            using var scope = Tensor.NewDisposeScope();
            var (x, y) = RegressionBatches.Slice(inputs, targets, group.Rank, worldSize);
            fsdp.BeginStep();
            Functional.MseLoss(model.Forward(x), y).Backward();
            fsdp.FinishBackward();
            fsdp.GatheredBytes.Should().Be(0, "every full buffer is freed after backward");
            model.Blocks.SelectMany(b => b.Parameters()).Should().AllSatisfy(p => p.StorageBytes.Should().Be(0));

            // Reassemble the full gradient from every rank's shard gradients, unit by unit.
            gathered[group.Rank] = fsdp.ShardParameters.Select(shard =>
            {
                var full = Tensor.Zeros([shard.NumElements * worldSize]);
                using (var work = group.AllGather(full, shard.Grad()!))
                {
                    work.Wait();
                }

                return full.ToArray<float>();
            }).ToArray();
        });

        var expected = ExpectedFlatGradients(reference);
        foreach (var rank in Enumerable.Range(0, worldSize))
        {
            for (var unit = 0; unit < expected.Length; unit++)
            {
                var actual = gathered[rank][unit];
                actual[..expected[unit].Length].Should().Equal(expected[unit], (a, b) => Math.Abs(a - b) <= 1e-5f * (Math.Abs(b) + 1e-3f), $"rank {rank}, unit {unit}");
                actual[expected[unit].Length..].Should().AllSatisfy(v => v.Should().Be(0), "padding carries no gradient");
            }
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Twenty_AdamW_steps_match_one_process_on_the_same_global_batches(int worldSize)
    {
        const int steps = 20;
        var single = BuildModel(seed: 21);
        var singleLosses = TrainSingle(single, steps);

        var models = Enumerable.Range(0, worldSize).Select(_ => BuildModel(seed: 21)).ToArray();
        var losses = new double[worldSize][];
        var finals = new float[worldSize][][];
        LocalRanks.Run(worldSize, group =>
        {
            var model = models[group.Rank];
            using var fsdp = new FullyShardedDataParallel(model, model.Blocks, group);
            using var optimizer = new AdamW(fsdp.ShardParameters, 1e-2);
            losses[group.Rank] = new double[steps];
            for (var step = 0; step < steps; step++)
            {
                losses[group.Rank][step] = ShardedStep(fsdp, optimizer, group, step, model.Forward);
            }

            using (fsdp.SummonFullParameters())
            {
                finals[group.Rank] = model.Parameters().Select(p => p.ToArray<float>()).ToArray();
            }
        });

        // fp32: a mean over ranks reassociates one process's mean; 1e-4 relative over 20 steps is rounding only.
        for (var step = 0; step < steps; step++)
        {
            var global = Enumerable.Range(0, worldSize).Average(r => losses[r][step]);
            global.Should().BeApproximately(singleLosses[step], Math.Abs(singleLosses[step]) * 1e-4, $"step {step + 1}");
        }

        var expected = single.Parameters().Select(p => p.ToArray<float>()).ToArray();
        foreach (var rank in Enumerable.Range(0, worldSize))
        {
            for (var i = 0; i < expected.Length; i++)
            {
                finals[rank][i].Should().Equal(expected[i], (a, b) => Math.Abs(a - b) <= 1e-4f * (1 + Math.Abs(b)), $"rank {rank}, parameter {i}");
            }
        }
    }

    [Fact]
    public void Bf16_compute_keeps_fp32_master_shards_and_tracks_fp32_training()
    {
        const int steps = 10;
        const int worldSize = 2;
        var single = BuildModel(seed: 23);
        var singleLosses = TrainSingle(single, steps);

        var models = Enumerable.Range(0, worldSize).Select(_ => BuildModel(seed: 23)).ToArray();
        var losses = new double[worldSize][];
        var finals = new float[worldSize][][];
        var exactMasters = new bool[worldSize];
        LocalRanks.Run(worldSize, group =>
        {
            var model = models[group.Rank];
            using var fsdp = new FullyShardedDataParallel(model, model.Blocks, group, computeDType: ScalarType.BFloat16);
            fsdp.ComputeDType.Should().Be(ScalarType.BFloat16);
            fsdp.ShardParameters.Should().AllSatisfy(s => s.DType.Should().Be(ScalarType.Float32, "the optimizer updates fp32 master shards"));
            using var optimizer = new AdamW(fsdp.ShardParameters, 1e-2);
            losses[group.Rank] = new double[steps];
            for (var step = 0; step < steps; step++)
            {
                losses[group.Rank][step] = ShardedStep(fsdp, optimizer, group, step, x =>
                {
                    model.Stem.Weight.DType.Should().Be(ScalarType.BFloat16, "gathered units compute in bf16");
                    return model.Forward(x.To(ScalarType.BFloat16)).To(ScalarType.Float32);
                });
                fsdp.ShardParameters.Should().AllSatisfy(s => s.Grad()!.DType.Should().Be(ScalarType.Float32, "gradients are reduced into fp32"));
            }

            // Every unit's fp32 master shards, gathered by hand: what the summoned weights must be, bit for bit.
            var masters = fsdp.ShardParameters.Select(shard =>
            {
                using var full = Tensor.Zeros([shard.NumElements * worldSize]);
                using (var work = group.AllGather(full, shard))
                {
                    work.Wait();
                }

                return full.ToArray<float>();
            }).ToArray();
            using (fsdp.SummonFullParameters())
            {
                model.Parameters().Should().AllSatisfy(p => p.DType.Should().Be(ScalarType.Float32, "summoned weights are the fp32 masters"));
                finals[group.Rank] = model.Parameters().Select(p => p.ToArray<float>()).ToArray();
                var unitParameters = model.Blocks.Select(b => b.Parameters()).Append(model.Stem.Parameters().Concat(model.Head.Parameters()));
                exactMasters[group.Rank] = unitParameters.Select(ps => ps.SelectMany(p => p.ToArray<float>()).ToArray())
                    .Zip(masters, (summoned, master) => summoned.AsSpan().SequenceEqual(master.AsSpan(0, summoned.Length))).All(x => x);
            }

            model.Stem.Weight.DType.Should().Be(ScalarType.BFloat16, "after the summon the parameters are the (freed) compute views again");
        });

        // bf16 keeps 8 bits of mantissa: each step's loss is within a few percent of fp32 training's.
        for (var step = 0; step < steps; step++)
        {
            var global = Enumerable.Range(0, worldSize).Average(r => losses[r][step]);
            global.Should().BeApproximately(singleLosses[step], Math.Abs(singleLosses[step]) * 0.05, $"step {step + 1}");
        }

        exactMasters.Should().AllBeEquivalentTo(true, "the summoned weights are exactly the fp32 master shards, not their bf16 copies");
        finals[1].Should().BeEquivalentTo(finals[0], o => o.WithStrictOrdering(), "every rank summons the same weights");
        // AdamW moves every weight by about lr a step whatever the gradient's size, so elementwise comparison says
        // little; the weights as a whole stay within 2% (L2) of fp32 training's.
        var expected = single.Parameters().SelectMany(p => p.ToArray<float>()).ToArray();
        var actual = finals[0].SelectMany(p => p).ToArray();
        var distance = Math.Sqrt(expected.Zip(actual, (e, a) => (double)(e - a) * (e - a)).Sum());
        var norm = Math.Sqrt(expected.Sum(e => (double)e * e));
        (distance / norm).Should().BeLessThan(0.02, $"relative L2 distance to fp32 training after {steps} steps");
    }

    [Theory]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(3, true)]
    public void Per_rank_memory_is_a_shard_of_the_whole_plus_the_units_in_use(int worldSize, bool prefetch)
    {
        var models = Enumerable.Range(0, worldSize).Select(_ => BuildModel(seed: 4, depth: 6)).ToArray();
        var fullBytes = models[0].Parameters().Sum(p => p.ByteCount);
        var accounts = new (long Sharded, long Peak, long LargestBlock, long Root)[worldSize];
        LocalRanks.Run(worldSize, group =>
        {
            var model = models[group.Rank];
            using var fsdp = new FullyShardedDataParallel(model, model.Blocks, group, prefetch);
            using var optimizer = new AdamW(fsdp.ShardParameters, 1e-3);
            for (var step = 0; step < 2; step++)
            {
                using var scope = Tensor.NewDisposeScope();
                var (inputs, targets) = RegressionBatches.Batch(seed: 7);
                var (x, y) = RegressionBatches.Slice(inputs, targets, group.Rank, worldSize);
                optimizer.ZeroGrad();
                fsdp.ResetPeak();
                fsdp.BeginStep();
                Functional.MseLoss(model.Forward(x), y).Backward();
                fsdp.FinishBackward();
                optimizer.Step();
            }

            // Counted per rank: shard parameters, shard gradients and AdamW's two moments per shard element.
            var shardBytes = fsdp.ShardParameters.Sum(s => s.ByteCount);
            var stateBytes = Enumerable.Range(0, fsdp.ShardParameters.Count).Sum(i => optimizer.GetState(i)!.Tensors.Values.Sum(t => t.ByteCount));
            var units = fsdp.UnitBytes;
            accounts[group.Rank] = (shardBytes * 2 + stateBytes, fsdp.PeakGatheredBytes, units.Take(units.Count - 1).Max(), units[^1]);
        });

        // The whole: parameters, gradients and two AdamW moments, 4 × the parameter bytes.
        var whole = 4 * fullBytes;
        foreach (var (sharded, peak, largestBlock, root) in accounts)
        {
            var padding = 4L * 4 * worldSize * (models[0].Blocks.Count + 1); // < one element per rank per unit, 4 copies
            sharded.Should().BeLessThanOrEqualTo((whole / worldSize) + padding);

            // In use at once: the root (gathered for the step), the unit computing, the one whose gradients
            // are being reduce-scattered, and with prefetch the next one.
            var inUse = root + (largestBlock * (prefetch ? 3 : 2));
            peak.Should().BeLessThanOrEqualTo(inUse);
            peak.Should().BeLessThan(fullBytes * 2, "never the whole model's parameters and gradients at once");

            // The bound, in its own measure: everything counted on a rank at its peak stays within
            // (1/N) of the whole (parameters, gradients, AdamW moments) plus the largest unit's whole.
            var largestUnit = 4 * Math.Max(largestBlock, root);
            (sharded + peak).Should().BeLessThanOrEqualTo((whole / worldSize) + padding + largestUnit);
        }
    }

    [Theory]
    [InlineData("bench", 2)]
    [InlineData("tiny", 3)]
    public void A_dits_per_rank_memory_stays_within_a_shard_of_the_whole_plus_its_largest_unit(string preset, int worldSize)
    {
        var config = Sora.Model.Dit.DiTConfig.Preset(preset) with { Depth = 3 };
        var models = Enumerable.Range(0, worldSize).Select(_ =>
        {
            lock (typeof(RandomState))
            {
                RandomState.ManualSeed(8);
                return new Sora.Model.Dit.VideoDiT(config, vocabularySize: 40);
            }
        }).ToArray();
        var whole = 4 * models[0].Parameters().Sum(p => p.ByteCount);
        var counted = new long[worldSize];
        var bound = new long[worldSize];
        LocalRanks.Run(worldSize, group =>
        {
            var model = models[group.Rank];
            using var fsdp = new FullyShardedDataParallel(model, model.Blocks, group);
            using var optimizer = new AdamW(fsdp.ShardParameters, 1e-4);
            var flow = new Sora.Model.Flow.RectifiedFlow();
            using var scope = Tensor.NewDisposeScope();
            optimizer.ZeroGrad();
            fsdp.ResetPeak();
            fsdp.BeginStep();
            flow.Loss(model, Tensor.Randn([2, config.LatentChannels, 2, 8, 8]), Tensor.RandInt(1, 40, [2, config.MaxTextTokens])).Loss.Backward();
            fsdp.FinishBackward();
            optimizer.Step();
            var sharded = (2 * fsdp.ShardParameters.Sum(s => s.ByteCount))
                + Enumerable.Range(0, fsdp.ShardParameters.Count).Sum(i => optimizer.GetState(i)!.Tensors.Values.Sum(t => t.ByteCount));
            counted[group.Rank] = sharded + fsdp.PeakGatheredBytes;
            bound[group.Rank] = (whole / worldSize) + (4 * fsdp.UnitBytes.Max()) + (4L * 4 * worldSize * fsdp.UnitBytes.Count);
        });

        for (var rank = 0; rank < worldSize; rank++)
        {
            counted[rank].Should().BeLessThanOrEqualTo(bound[rank], $"rank {rank}: (1/N)·whole + the largest unit's parameters, gradients and AdamW state");
        }
    }

    private static double[] TrainSingle(BlockModel model, int steps)
    {
        using var optimizer = new AdamW(model.Parameters(), 1e-2);
        var losses = new double[steps];
        for (var step = 0; step < steps; step++)
        {
            using var scope = Tensor.NewDisposeScope();
            var (inputs, targets) = RegressionBatches.Batch(seed: 2000UL + (ulong)step);
            var (x, y) = RegressionBatches.Slice(inputs, targets, 0, 1);
            optimizer.ZeroGrad();
            var loss = Functional.MseLoss(model.Forward(x), y);
            losses[step] = loss.ItemDouble();
            loss.Backward();
            Sora.Distributed.Training.GradientClipping.ClipByGlobalNorm(model.Parameters(), 1.0);
            optimizer.Step();
        }

        return losses;
    }

    /// <summary>The reference gradient flattened per unit, in FSDP's unit order: each block, then the rest.</summary>
    private static float[][] ExpectedFlatGradients(BlockModel model)
    {
        var blocks = model.Blocks.Select(b => b.Parameters().SelectMany(p => p.Grad()!.ToArray<float>()).ToArray());
        var inBlocks = model.Blocks.SelectMany(b => b.Parameters()).ToHashSet(ReferenceEqualityComparer.Instance);
        var rest = model.Parameters().Where(p => !inBlocks.Contains(p)).SelectMany(p => p.Grad()!.ToArray<float>()).ToArray();
        return [.. blocks, rest];
    }

    // One AdamW step of this rank's share of global batch 2000 + step under FSDP (clipped at 1); returns its loss.
    private static double ShardedStep(FullyShardedDataParallel fsdp, AdamW optimizer, ProcessGroup group, int step, Func<Tensor, Tensor> forward)
    {
        using var scope = Tensor.NewDisposeScope();
        var (inputs, targets) = RegressionBatches.Batch(seed: 2000UL + (ulong)step);
        var (x, y) = RegressionBatches.Slice(inputs, targets, group.Rank, group.WorldSize);
        optimizer.ZeroGrad();
        fsdp.BeginStep();
        var loss = Functional.MseLoss(forward(x), y);
        var value = loss.ItemDouble();
        loss.Backward();
        fsdp.FinishBackward();
        fsdp.ClipGradients(1.0);
        optimizer.Step();
        return value;
    }

    internal static BlockModel BuildModel(ulong seed, int depth = 3)
    {
        lock (typeof(RandomState))
        {
            RandomState.ManualSeed(seed);
            return new BlockModel(depth);
        }
    }

    /// <summary>A stem, residual blocks called through Invoke (FSDP's units), and a head: a transformer's shape in miniature.</summary>
    internal sealed class BlockModel : Module<Tensor, Tensor>
    {
        public BlockModel(int depth)
        {
            Stem = RegisterModule("stem", new Linear(6, Width));
            Blocks = RegisterModule("blocks", new ModuleList<Block>(Enumerable.Range(0, depth).Select(_ => new Block())));
            Head = RegisterModule("head", new Linear(Width, 3));
        }

        public Linear Stem { get; }

        public ModuleList<Block> Blocks { get; }

        public Linear Head { get; }

        public override Tensor Forward(Tensor input)
        {
            var x = Stem.Forward(input);
            foreach (var block in Blocks)
            {
                x = block.Invoke(() => block.Forward(x));
            }

            return Head.Forward(x);
        }
    }

    internal sealed class Block : Module<Tensor, Tensor>
    {
        public Block()
        {
            Inner = RegisterModule("inner", new Linear(Width, 2 * Width + 1));
            Outer = RegisterModule("outer", new Linear(2 * Width + 1, Width));
        }

        public Linear Inner { get; }

        public Linear Outer { get; }

        public override Tensor Forward(Tensor input) => input.Add(Outer.Forward(Inner.Forward(input).Tanh()));
    }
}
