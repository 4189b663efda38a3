using Sora.Torch.Distributed;

namespace Sora.Torch.Tests.Distributed;

public sealed class ProcessGroupTests
{
    public static TheoryData<int> WorldSizes => new() { 1, 2, 3, 4 };

    [Theory]
    [MemberData(nameof(WorldSizes))]
    public void AllReduce_combines_every_rank_with_each_op(int worldSize)
    {
        LocalRanks.Run(worldSize, group =>
        {
            var r = group.Rank;
            float[] Values() => [r + 1, -r, 10 * r];
            var ranks = Enumerable.Range(0, worldSize).ToArray();
            foreach (var (op, expected) in new (ReduceOp, float[])[]
            {
                (ReduceOp.Sum, [ranks.Sum(x => x + 1f), ranks.Sum(x => -x), ranks.Sum(x => 10f * x)]),
                (ReduceOp.Avg, [(float)ranks.Average(x => x + 1f), (float)ranks.Average(x => -x), (float)ranks.Average(x => 10f * x)]),
                (ReduceOp.Max, [worldSize, 0, 10f * (worldSize - 1)]),
                (ReduceOp.Min, [1, -(worldSize - 1), 0]),
            })
            {
                using var t = Tensor.FromArray(Values(), 3);
                using (var work = group.AllReduce(t, op))
                {
                    work.Wait();
                }

                t.ToArray<float>().Should().BeEquivalentTo(expected, o => o.WithStrictOrdering(), $"{op} on rank {r}");
            }
        });
    }

    [Fact]
    public void AllReduce_avg_of_an_integer_tensor_is_refused_with_the_reason()
    {
        LocalRanks.Run(2, group =>
        {
            using var t = Tensor.FromArray(new long[] { 1, 2 }, 2);
            var act = () => group.AllReduce(t, ReduceOp.Avg);
            act.Should().Throw<CollectiveException>().WithMessage($"rank {group.Rank} of 2: all_reduce failed: AVG needs a floating-point tensor*");
        });
    }

    [Theory]
    [MemberData(nameof(WorldSizes))]
    public void AllReduceCoalesced_reduces_tensors_of_different_shapes_in_one_call(int worldSize)
    {
        LocalRanks.Run(worldSize, group =>
        {
            using var a = Tensor.Full([2, 3], group.Rank + 1);
            using var b = Tensor.Full([5], 2 * (group.Rank + 1));
            using (var work = group.AllReduceCoalesced([a, b]))
            {
                work.Wait();
            }

            var total = worldSize * (worldSize + 1) / 2;
            a.ToArray<float>().Should().AllSatisfy(v => v.Should().Be(total));
            b.ToArray<float>().Should().AllSatisfy(v => v.Should().Be(2 * total));
            a.Shape.Should().Equal(2, 3);
        });
    }

    [Theory]
    [MemberData(nameof(WorldSizes))]
    public void Broadcast_copies_the_roots_tensor_to_every_rank(int worldSize)
    {
        var root = worldSize - 1;
        LocalRanks.Run(worldSize, group =>
        {
            using var t = Tensor.FromArray(new[] { group.Rank * 1.5f, 7f, -group.Rank }, 3);
            using (var work = group.Broadcast(t, root))
            {
                work.Wait();
            }

            t.ToArray<float>().Should().Equal(root * 1.5f, 7f, -root);
        });
    }

    [Theory]
    [MemberData(nameof(WorldSizes))]
    public void AllGather_places_each_ranks_input_at_its_offset_in_one_flat_output(int worldSize)
    {
        const int n = 5; // not a multiple of anything: no alignment assumed
        LocalRanks.Run(worldSize, group =>
        {
            using var input = Tensor.FromArray(Enumerable.Range(0, n).Select(i => 100f * group.Rank + i).ToArray(), n);
            using var output = Tensor.Zeros([worldSize * n]);
            using (var work = group.AllGather(output, input))
            {
                work.Wait();
            }

            var expected = Enumerable.Range(0, worldSize).SelectMany(r => Enumerable.Range(0, n).Select(i => 100f * r + i));
            output.ToArray<float>().Should().Equal(expected);
        });
    }

    [Theory]
    [MemberData(nameof(WorldSizes))]
    public void ReduceScatter_leaves_each_rank_the_reduction_of_its_slice_and_keeps_the_input(int worldSize)
    {
        const int n = 3;
        LocalRanks.Run(worldSize, group =>
        {
            var values = Enumerable.Range(0, worldSize * n).Select(i => (float)(group.Rank + 1) * i).ToArray();
            using var input = Tensor.FromArray(values, worldSize * n);
            foreach (var op in new[] { ReduceOp.Sum, ReduceOp.Avg })
            {
                using var output = Tensor.Zeros([n]);
                using (var work = group.ReduceScatter(output, input, op))
                {
                    work.Wait();
                }

                var rankSum = worldSize * (worldSize + 1) / 2f;
                var scale = op == ReduceOp.Avg ? rankSum / worldSize : rankSum;
                var expected = Enumerable.Range(group.Rank * n, n).Select(i => scale * i);
                output.ToArray<float>().Should().BeEquivalentTo(expected, o => o.WithStrictOrdering().Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-4f)).WhenTypeIs<float>(), $"{op}");
            }

            input.ToArray<float>().Should().Equal(values, "the input is left as it was");
        });
    }

    [Fact]
    public void Mismatched_sizes_are_refused_with_both_numbers()
    {
        LocalRanks.Run(2, group =>
        {
            using var input = Tensor.Zeros([3]);
            using var output = Tensor.Zeros([5]);
            var act = () => group.AllGather(output, input);
            act.Should().Throw<CollectiveException>().WithMessage("*all_gather output has 5 elements; expected world size 2 x input 3*");
        });
    }

    [Fact]
    public void Barrier_and_async_work_complete()
    {
        LocalRanks.Run(3, group =>
        {
            using var t = Tensor.Full([1000], 1f);
            using var work = group.AllReduce(t);
            work.Wait();
            work.IsCompleted.Should().BeTrue();
            using var barrier = group.Barrier();
            barrier.Wait();
            barrier.IsCompleted.Should().BeTrue();
        });
    }

    [Fact]
    public void A_rank_that_leaves_makes_the_survivors_fail_instead_of_hanging()
    {
        // Rank 1 joins and then closes its connections (what the kernel does for a killed process).
        var errors = LocalRanks.TryRun(3, group =>
        {
            if (group.Rank == 1)
            {
                return;
            }

            Thread.Sleep(500);
            using var t = Tensor.Full([1 << 16], 1f);
            using var work = group.AllReduce(t);
            work.Wait();
        }, TimeSpan.FromSeconds(10));
        errors[1].Should().BeNull();
        foreach (var rank in new[] { 0, 2 })
        {
            errors[rank].Should().BeOfType<CollectiveException>().Which.Message.Should().StartWith($"rank {rank} of 3: all_reduce failed");
        }
    }

    [Fact]
    public void A_stalled_rank_makes_the_others_time_out_within_the_group_timeout()
    {
        var release = new ManualResetEventSlim();
        var errors = LocalRanks.TryRun(2, group =>
        {
            if (group.Rank == 1)
            {
                release.Wait(TimeSpan.FromSeconds(20)); // alive but never joins the collective
                return;
            }

            try
            {
                using var t = Tensor.Full([4], 1f);
                using var work = group.AllReduce(t);
                work.Wait();
            }
            finally
            {
                release.Set();
            }
        }, TimeSpan.FromSeconds(2));
        errors[0].Should().BeOfType<CollectiveException>().Which.Message.Should().Contain("rank 0 of 2: all_reduce failed");
    }
}
