using System.Globalization;
using Sora.Checkpoint.Sharded;
using Sora.Checkpoint.Stores;
using Sora.Distributed.Checkpointing;
using Sora.Distributed.Training;
using Sora.Torch;
using Sora.Torch.NN;
using Sora.Torch.Optim;
using Sora.Torch.Tests.Distributed;

namespace Sora.Distributed.Tests.Training;

/// <summary>A graceful stop (<see cref="TrainingControl"/>): every rank stops after the same step, checkpointed, and resumes exactly.</summary>
[Collection(nameof(TrainerTests))]
public sealed class TrainerStopTests : IDisposable
{
    private const int Rows = 16;
    private const int GlobalBatch = 8;
    private const string Root = "dit/checkpoints";
    private static readonly float[] X = Enumerable.Range(0, Rows * 3).Select(i => (float)Math.Sin(0.7 * i)).ToArray();
    private static readonly float[] Y = Enumerable.Range(0, Rows).Select(i => (float)Math.Cos(1.3 * i)).ToArray();

    private readonly string _directory = Directory.CreateTempSubdirectory("sora-stop-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_stop_asked_on_rank_one_only_stops_both_ranks_after_the_same_checkpointed_step_and_the_resumed_run_ends_bitwise_equal()
    {
        var whole = TrainTwoRanks(Path.Combine(_directory, "whole"), steps: 10, resume: null, stopOnRank1AtStep: null);
        whole.Select(r => r.StoppedAt).Should().Equal([null, null]);

        var stopped = Path.Combine(_directory, "stopped");
        var first = TrainTwoRanks(stopped, steps: 10, resume: null, stopOnRank1AtStep: 5);

        first.Select(r => r.StoppedAt).Should().Equal([5L, 5L], "both ranks agree on the step through the loss all-reduce");
        first[1].Reason.Should().Be("agent asked");
        first[0].Reason.Should().Be("requested by another rank");
        first[0].Committed.Should().BeTrue("rank 0 waited for the stop step's checkpoint and committed it");
        first.Select(r => r.Steps).Should().Equal([5L, 5L]);
        var latest = await new ShardedCheckpointReader(new LocalDirectoryStore(stopped), new CheckpointLayout(Root)).ReadLatestAsync();
        latest!.Step.Should().Be(5, "step 5 is not a multiple of the checkpoint interval: the stop saved it");

        var resumed = TrainTwoRanks(stopped, steps: 10, resume: "latest", stopOnRank1AtStep: null);

        resumed.Select(r => r.StoppedAt).Should().Equal([null, null]);
        resumed[0].Losses.Should().HaveCount(5, "steps 6-10 were trained after the resume");
        resumed[0].Weights.Should().Equal(whole[0].Weights, "the resumed run's weights are bitwise those of the run never stopped");
        resumed[0].Ema.Should().Equal(whole[0].Ema);
        resumed[1].Weights.Should().Equal(whole[1].Weights);
    }

    [Fact]
    public async Task A_single_process_stop_saves_the_step_even_between_intervals_and_a_stop_at_the_last_step_completes()
    {
        var store = new LocalDirectoryStore(_directory);
        var control = new TrainingControl();
        control.IsStopRequested.Should().BeFalse();
        using (var checkpointer = new TrainingCheckpointer(store, Root, every: 0, configHash: "toy"))
        {
            var state = Run(Spec(onStep: step => Stop(control, step, at: 3)), steps: 8, group: null, checkpointer, control);

            state.StoppedAt.Should().Be(3);
            state.Steps.Should().Be(3);
            state.Reason.Should().Be("agent asked");
            state.Committed.Should().BeTrue();
            checkpointer.Committed.Should().Equal(3);
        }

        (await new ShardedCheckpointReader(store, new CheckpointLayout(Root)).ReadLatestAsync())!.Step.Should().Be(3);

        control.RequestStop("a second reason");
        control.Reason.Should().Be("agent asked", "the first reason is kept");

        var atEnd = new TrainingControl();
        var completed = Run(Spec(onStep: step => Stop(atEnd, step, at: 4)), steps: 4, group: null, checkpointer: null, atEnd);
        completed.StoppedAt.Should().BeNull("nothing was left to stop");
        completed.Steps.Should().Be(4);

        var noCheckpoints = new TrainingControl();
        var uncheckpointed = Run(Spec(onStep: step => Stop(noCheckpoints, step, at: 2)), steps: 4, group: null, checkpointer: null, noCheckpoints);
        uncheckpointed.StoppedAt.Should().Be(2);
        uncheckpointed.Committed.Should().BeNull();
    }

    private static void Stop(TrainingControl control, long step, long at)
    {
        if (step == at)
        {
            control.RequestStop("agent asked");
        }
    }

    private static RankResult[] TrainTwoRanks(string directory, long steps, string? resume, long? stopOnRank1AtStep)
    {
        var results = new RankResult[2];
        LocalRanks.Run(2, group =>
        {
            var control = new TrainingControl();
            var onStep = group.Rank == 1 && stopOnRank1AtStep is { } at ? step => Stop(control, step, at) : (Action<long>?)null;
            using var checkpointer = new TrainingCheckpointer(new LocalDirectoryStore(directory), Root, every: 3, configHash: "toy", resume: resume);
            results[group.Rank] = Run(Spec(onStep), steps, group, checkpointer, control);
        });
        return results;
    }

    private static RankResult Run(TrainSpec<int[]> spec, long steps, Sora.Torch.Distributed.ProcessGroup? group, TrainingCheckpointer? checkpointer, TrainingControl control)
    {
        var state = new Trainer<int[]>(spec, new TrainerOptions { Steps = steps, GradientClip = 1.0, EmaDecay = 0.9 }, group: group, checkpointer: checkpointer, control: control).Run();
        using var model = state.Model;
        using var optimizer = state.Optimizer;
        using var ema = state.Ema;
        using var scope = Tensor.NewDisposeScope();
        return new RankResult(state.Step, state.StoppedAt, state.StopReason, state.StopCheckpointCommitted, state.LossHistory.Select(l => l.Loss).ToArray(),
            ((Linear)model).Weight.ToArray<float>(), ema is null ? [] : ema.StateDict()["weight"].ToArray<float>());
    }

    // A linear regression with AdamW: global batch i is rows [8i, 8i+8) mod 16; each rank trains on its half.
    // onStep sees the step number (counted by the loss calls of this rank) before the step's loss is computed.
    private static TrainSpec<int[]> Spec(Action<long>? onStep)
    {
        long calls = 0;
        return new TrainSpec<int[]>
        {
            Name = "toy",
            // Ranks build their models on parallel threads: one at a time through the global generator.
            BuildModel = () =>
            {
                lock (typeof(RandomState))
                {
                    RandomState.ManualSeed(42);
                    return new Linear(3, 1, bias: false);
                }
            },
            BuildOptimizer = parameters => new AdamW(parameters, 0.05),
            Schedule = new LearningRateSchedule(0.05, 2, 100),
            BuildData = () => new RowBatches(),
            ShareOfBatch = (rows, rank, worldSize) => rows.Chunk(rows.Length / worldSize).ElementAt(rank),
            Loss = (model, rows) =>
            {
                onStep?.Invoke(++calls);
                var x = Tensor.FromArray(rows.SelectMany(r => X.Skip(r * 3).Take(3)).ToArray(), rows.Length, 3);
                var y = Tensor.FromArray(rows.Select(r => Y[r]).ToArray(), rows.Length, 1);
                return new StepLoss(Functional.MseLoss(((Linear)model).Forward(x), y), rows.Length, rows.Length);
            },
        };
    }

    private sealed record RankResult(long Steps, long? StoppedAt, string? Reason, bool? Committed, double[] Losses, float[] Weights, float[] Ema);

    /// <summary>Global batches of row indices, with a cursor so that a resumed run continues with the next batch.</summary>
    private sealed class RowBatches : IBatchSource<int[]>, IResumableBatchSource
    {
        private long _next;

        public int[] Next()
        {
            var start = (int)(_next++ * GlobalBatch % Rows);
            return Enumerable.Range(start, GlobalBatch).ToArray();
        }

        public string SaveCursor() => string.Create(CultureInfo.InvariantCulture, $"{{\"next\":{_next}}}");

        public void RestoreCursor(string cursor)
        {
            using var json = System.Text.Json.JsonDocument.Parse(cursor);
            _next = json.RootElement.GetProperty("next").GetInt64();
        }
    }
}
