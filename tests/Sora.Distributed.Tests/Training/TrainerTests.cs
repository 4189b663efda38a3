using System.Diagnostics.Metrics;
using Sora.Distributed.Training;
using Sora.Torch;
using Sora.Torch.NN;
using Sora.Torch.Optim;
using Sora.Torch.Tests.Distributed;

namespace Sora.Distributed.Tests.Training;

[Collection(nameof(TrainerTests))]
public class TrainerTests
{
    private static readonly float[] X = Enumerable.Range(0, 8 * 3).Select(i => (float)Math.Sin(i)).ToArray();
    private static readonly float[] Y = Enumerable.Range(0, 8).Select(i => (float)Math.Cos(i)).ToArray();

    [Fact]
    public void Accumulating_two_half_batches_equals_one_full_batch()
    {
        var full = Train(accumulation: 1, batch: 8, steps: 3);
        var halves = Train(accumulation: 2, batch: 4, steps: 3);
        full.Weights.Zip(halves.Weights).Should().OnlyContain(p => Math.Abs(p.First - p.Second) < 1e-6);
        full.Losses.Zip(halves.Losses).Should().OnlyContain(p => Math.Abs(p.First - p.Second) < 1e-6);
    }

    [Fact]
    public void The_same_seed_gives_the_same_run_bit_for_bit()
    {
        Train(1, 8, 5).Weights.Should().Equal(Train(1, 8, 5).Weights);
    }

    [Fact]
    public void Held_out_loss_and_samples_run_at_their_intervals_with_the_ema_weights_and_the_trained_weights_come_back()
    {
        var evaluated = new List<long>();
        var sampled = new List<long>();
        float[]? weightsSampled = null;
        var spec = Spec(batch: 8) with
        {
            HeldOutLoss = model =>
            {
                evaluated.Add(evaluated.Count);
                return 1.0;
            },
            OnSample = state =>
            {
                sampled.Add(state.Step);
                weightsSampled = ((Linear)state.Model).Weight.ToArray<float>();
            },
        };
        var state = new Trainer<int>(spec, new TrainerOptions { Steps = 10, EvalEvery = 4, SampleEvery = 5, EmaDecay = 0.5, GradientClip = 0 }).Run();
        using var model = state.Model;
        evaluated.Should().HaveCount(3, "steps 4, 8 and the last");
        state.HeldOutHistory.Select(h => h.Step).Should().Equal(4, 8, 10);
        sampled.Should().Equal(5, 10);
        using (var averaged = state.Ema!.StateDict()["weight"])
        {
            weightsSampled.Should().Equal(averaged.ToArray<float>(), "samples are made with the EMA weights");
        }

        ((Linear)model).Weight.ToArray<float>().Should().NotEqual(weightsSampled!, "the trained weights are back after sampling (with decay 0.5 they differ from the average)");
        state.Ema!.Dispose();
    }

    [Fact]
    public void Steps_are_recorded_on_the_training_meter_with_the_run_name()
    {
        var losses = new List<(double Value, string? Run)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == TrainingMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "sora.train.loss")
            {
                losses.Add((value, tags.ToArray().FirstOrDefault(t => t.Key == "run").Value as string));
            }
        });
        listener.Start();
        var state = new Trainer<int>(Spec(batch: 8), new TrainerOptions { Steps = 3 }).Run();
        state.Model.Dispose();
        losses.Should().HaveCount(3);
        losses.Should().OnlyContain(l => l.Run == "toy");
        losses.Select(l => l.Value).Should().Equal(state.LossHistory.Select(h => h.Loss));
    }

    [Fact]
    public void A_non_finite_loss_stops_training_naming_the_step()
    {
        var spec = Spec(batch: 8) with
        {
            Loss = (model, step) => new StepLoss(step >= 2 ? Tensor.FromScalar(double.NaN).Add(((Linear)model).Weight.Sum()) : ((Linear)model).Weight.Sum(), 1, 1),
        };
        var act = () => new Trainer<int>(spec, new TrainerOptions { Steps = 5 }).Run();
        act.Should().Throw<TrainingDivergedException>().WithMessage("toy: the loss is NaN at step 3*");
    }

    [Fact]
    public void Bf16_mixed_precision_needs_fsdp_and_there_trains_like_fp32_and_ends_with_fp32_weights()
    {
        var options = new TrainerOptions { Steps = 6, GradientClip = 0, ComputeDType = ScalarType.BFloat16 };
        var alone = () => new Trainer<int>(MixedSpec(), options).Run();
        alone.Should().Throw<ArgumentException>().WithMessage("train.mixed_precision: BFloat16 compute needs FSDP (*--parallel fsdp)*");

        var fp32 = new Trainer<int>(MixedSpec(), options with { ComputeDType = null }).Run();
        using (fp32.Model)
        {
            fp32.Optimizer.Dispose();
        }

        var losses = new double[2][];
        LocalRanks.Run(2, group =>
        {
            // Both ranks see the whole batch, so the averaged gradient is the one-process gradient.
            var state = new Trainer<int>(MixedSpec() with { ShareOfBatch = (batch, _, _) => batch }, options, group: group, parallelism: DataParallelism.Fsdp).Run();
            using var model = state.Model;
            losses[group.Rank] = state.LossHistory.Select(l => l.Loss).ToArray();
            ((Linear)model).Weight.DType.Should().Be(ScalarType.Float32, "after training the model holds its full-precision weights");
            state.Optimizer.Dispose();
        });

        var reference = fp32.LossHistory.Select(l => l.Loss).ToArray();
        losses[0].Should().Equal(reference, (a, b) => Math.Abs(a - b) <= 0.02 * Math.Abs(b), "bf16 compute tracks fp32 within bf16 rounding");
        losses[0].Should().NotEqual(reference, "the steps really ran in bf16");
    }

    // The toy regression again, with inputs cast to the model's compute dtype and the prediction back to fp32, as the DiT does.
    private static TrainSpec<int> MixedSpec()
    {
        var counter = 0;
        return Spec(8) with
        {
            // Ranks build their models on parallel threads: one at a time through the global generator.
            BuildModel = () =>
            {
                lock (typeof(RandomState))
                {
                    RandomState.ManualSeed(42);
                    return new Linear(3, 1, bias: false);
                }
            },
            BuildData = () => new Counter(() => counter++),
            Loss = (model, index) =>
            {
                var linear = (Linear)model;
                var x = Tensor.FromSpan<float>(X.AsSpan(0, 8 * 3), [8, 3]).To(linear.Weight.DType);
                var y = Tensor.FromSpan<float>(Y.AsSpan(0, 8), [8, 1]);
                return new StepLoss(Functional.MseLoss(linear.Forward(x).To(ScalarType.Float32), y), 8, 8);
            },
        };
    }

    private static (float[] Weights, double[] Losses) Train(int accumulation, int batch, int steps)
    {
        var state = new Trainer<int>(Spec(batch), new TrainerOptions { Steps = steps, GradientAccumulation = accumulation, GradientClip = 0 }).Run();
        using var model = state.Model;
        state.Optimizer.Dispose();
        return (((Linear)model).Weight.ToArray<float>(), state.LossHistory.Select(l => l.Loss).ToArray());
    }

    // A linear regression; batch i of size b is rows [i·b, (i+1)·b) of the fixed data, cycling.
    private static TrainSpec<int> Spec(int batch)
    {
        var counter = 0;
        return new TrainSpec<int>
        {
            Name = "toy",
            BuildModel = () =>
            {
                RandomState.ManualSeed(42);
                return new Linear(3, 1, bias: false);
            },
            BuildOptimizer = parameters => new Sgd(parameters, 0.1),
            Schedule = new LearningRateSchedule(0.1, 0, 100),
            BuildData = () => new Counter(() => counter++),
            Loss = (model, index) =>
            {
                var start = index * batch % 8;
                var x = Tensor.FromSpan<float>(X.AsSpan(start * 3, batch * 3), [batch, 3]);
                var y = Tensor.FromSpan<float>(Y.AsSpan(start, batch), [batch, 1]);
                return new StepLoss(Functional.MseLoss(((Linear)model).Forward(x), y), batch, batch);
            },
        };
    }

    private sealed class Counter(Func<int> next) : IBatchSource<int>
    {
        public int Next() => next();
    }
}
