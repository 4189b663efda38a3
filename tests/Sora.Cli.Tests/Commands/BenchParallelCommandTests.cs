using System.Text.Json;
using Sora.Cli.Bench;
using Sora.Cli.Commands;
using Sora.Model.Dit;
using Spectre.Console;

namespace Sora.Cli.Tests.Commands;

public class BenchParallelCommandTests
{
    // The figures the issue quoted: one process 6.2 samples/s; DDP 3.7 per rank, 7.4 for the job.
    private static readonly ParallelBenchmarkReport s_report = new(
    [
        Run(ParallelMode.None, ranks: 1, stepSeconds: 4 / 6.2),
        Run(ParallelMode.Ddp, ranks: 2, stepSeconds: 4 / 3.7),
        Run(ParallelMode.Fsdp, ranks: 2, stepSeconds: 4 / 3.6),
    ], []);

    [Fact]
    public void The_table_puts_the_jobs_samples_per_second_first_and_per_rank_second()
    {
        var text = Render(BenchParallelCommand.StepTable(s_report, "bench"));

        text.Should().Contain("samples/s (job)").And.Contain("samples/s per rank");
        text.IndexOf("samples/s (job)", StringComparison.Ordinal).Should().BeLessThan(text.IndexOf("samples/s per rank", StringComparison.Ordinal));
        Row(text, "single process").Should().ContainInOrder("6.20", "6.20");
        Row(text, "DDP, 2 ranks").Should().ContainInOrder("7.40", "3.70");
        Row(text, "FSDP, 2 ranks").Should().ContainInOrder("7.20", "3.60");
    }

    [Fact]
    public void The_json_names_the_jobs_samples_per_second_and_each_ranks_and_reads_back()
    {
        var json = JsonSerializer.Serialize(s_report);

        using var document = JsonDocument.Parse(json);
        var ddp = document.RootElement.GetProperty("Runs")[1];
        ddp.GetProperty("SamplesPerSecond").GetDouble().Should().BeApproximately(7.4, 1e-9);
        ddp.GetProperty("SamplesPerSecondPerRank").GetDouble().Should().BeApproximately(3.7, 1e-9);
        ddp.GetProperty("Ranks").GetInt32().Should().Be(2);

        // Rank 0 hands its result to the launcher as this JSON.
        var back = JsonSerializer.Deserialize<ParallelBenchmarkReport>(json)!;
        back.Runs[1].Should().BeEquivalentTo(s_report.Runs[1]);
    }

    private static StepBenchmarkReport Run(ParallelMode mode, int ranks, double stepSeconds) =>
        new(Threads: 2 / ranks, Parameters: 1_000, TokensPerSample: 64, Batch: 4, stepSeconds, new DiTFlops(1e9, 1e8, 1e7, 0), AchievedGflops: 1.1 / stepSeconds, PeakGflops: 100)
        {
            Mode = mode,
            Ranks = ranks,
            ExposedCommunicationSeconds = mode == ParallelMode.None ? 0 : 0.01,
        };

    private static string Render(Table table)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(writer) });
        console.Profile.Width = 240;
        console.Write(table);
        return writer.ToString();
    }

    private static string[] Row(string text, string setup) =>
        text.Split('\n').Single(line => line.Contains(setup, StringComparison.Ordinal)).Split('│', StringSplitOptions.TrimEntries);
}
