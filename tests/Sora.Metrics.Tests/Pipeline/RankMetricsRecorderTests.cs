using System.Diagnostics.Metrics;
using Sora.Metrics.Pipeline;
using I = Sora.Metrics.Pipeline.RankMetricsRecorder.Instruments;

namespace Sora.Metrics.Tests.Pipeline;

/// <summary>The recorder turns the trainer's instruments into what a rank reports.</summary>
public sealed class RankMetricsRecorderTests
{
    [Fact]
    public void Counters_accumulate_values_are_the_latest_and_each_step_is_kept_with_its_time_and_loss()
    {
        using var meter = new Meter("Sora.Test." + Guid.NewGuid());
        using var recorder = new RankMetricsRecorder(peakFlopsPerSecond: 100);
        var steps = meter.CreateCounter<long>(I.Steps);
        var samples = meter.CreateCounter<long>(I.Samples);
        var flops = meter.CreateCounter<double>(I.Flops);
        var loss = meter.CreateHistogram<double>(I.Loss);
        var stepTime = meter.CreateHistogram<double>(I.StepTime);
        var communication = meter.CreateHistogram<double>(I.ExposedCommunication);
        var heldOut = meter.CreateHistogram<double>(I.HeldOutLoss);
        for (var step = 1; step <= 3; step++)
        {
            steps.Add(1);
            samples.Add(8);
            flops.Add(50);
            loss.Record(1.0 / step);
            stepTime.Record(0.5);
            communication.Record(0.1);
            if (step == 2)
            {
                heldOut.Record(0.7);
            }

            recorder.OnStep("dit", step, 10);
        }

        var m = recorder.Snapshot();
        m.StepsTotal.Should().Be(3);
        m.SamplesTotal.Should().Be(24);
        m.Loss.Should().BeApproximately(1.0 / 3, 1e-12);
        m.HeldOutLoss.Should().Be(0.7);
        m.HeldOutStep.Should().Be(2, "a held-out loss belongs to the step it was measured after");
        m.RecentSteps.Should().Equal(1, 2, 3);
        m.RecentStepSeconds.Should().Equal(0.5, 0.5, 0.5);
        m.RecentLosses.Should().Equal(1.0, 0.5, 1.0 / 3);
        m.FlopsPerSecond.Should().BeApproximately(100, 1e-9, "50 FLOPs per 0.5 s step");
        m.PeakFlopsPerSecond.Should().Be(100);
        m.BusySeconds.Should().BeApproximately(0.4, 1e-12, "the step less its exposed communication");
        m.Stage.Should().Be("dit");
        m.Step.Should().Be(3);
    }

    [Fact]
    public void The_recent_steps_are_bounded()
    {
        using var meter = new Meter("Sora.Test." + Guid.NewGuid());
        using var recorder = new RankMetricsRecorder();
        var stepTime = meter.CreateHistogram<double>(I.StepTime);
        for (var step = 1; step <= RankMetrics.RecentCapacity + 10; step++)
        {
            stepTime.Record(step);
            recorder.OnStep("dit", step, 1000);
        }

        var m = recorder.Snapshot();
        m.RecentSteps.Should().HaveCount(RankMetrics.RecentCapacity);
        m.RecentSteps[^1].Should().Be(RankMetrics.RecentCapacity + 10);
        m.RecentStepSeconds[^1].Should().Be(RankMetrics.RecentCapacity + 10);
    }

    [Fact]
    public void A_new_stage_does_not_carry_the_last_stage_s_steps()
    {
        using var meter = new Meter("Sora.Test." + Guid.NewGuid());
        using var recorder = new RankMetricsRecorder();
        var loss = meter.CreateHistogram<double>(I.Loss);
        var heldOut = meter.CreateHistogram<double>(I.HeldOutLoss);
        foreach (var (stage, steps, value) in new[] { ("vae", 6, 9.0), ("dit", 2, 1.0) })
        {
            for (var step = 1; step <= steps; step++)
            {
                loss.Record(value);
                if (stage == "vae" && step == 2)
                {
                    heldOut.Record(0.2);
                }

                recorder.OnStep(stage, step, 100);
            }
        }

        var m = recorder.Snapshot();
        m.RecentSteps.Should().Equal(1, 2);
        m.RecentLosses.Should().Equal(1.0, 1.0);
        m.HeldOutLoss.Should().BeNull("the VAE's held-out loss is not the DiT's");
    }

    [Fact]
    public void A_gpu_rank_s_device_memory_is_its_latest_measurement_and_a_cpu_rank_reports_none()
    {
        using var meter = new Meter("Sora.Test." + Guid.NewGuid());
        using var recorder = new RankMetricsRecorder();
        recorder.Snapshot().DeviceBytes.Should().Be(0, "nothing is measured on the CPU");
        var memory = meter.CreateHistogram<long>(I.DeviceMemory);
        memory.Record(3L << 30);
        memory.Record(5L << 30);
        recorder.Snapshot().DeviceBytes.Should().Be(5L << 30);
    }

    [Fact]
    public void Instruments_of_other_meters_are_ignored()
    {
        using var meter = new Meter("NotSora." + Guid.NewGuid());
        using var recorder = new RankMetricsRecorder();
        meter.CreateCounter<long>(I.Steps).Add(5);
        recorder.Snapshot().StepsTotal.Should().Be(0);
    }
}
