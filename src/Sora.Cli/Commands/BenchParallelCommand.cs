using System.CommandLine;
using System.Text.Json;
using Sora.Cli.Bench;
using Sora.Cli.Console;
using Sora.Cli.Launch;
using Sora.Model.Dit;
using Sora.Torch.Distributed;
using Spectre.Console;
using Sora.Cluster.Workers;

namespace Sora.Cli.Commands;

/// <summary><c>sora bench parallel</c>: one process vs DDP vs FSDP at the bench config, and all-reduce bandwidth.</summary>
internal static class BenchParallelCommand
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "Model config: bench, tiny, dit-s or dit-b.", DefaultValueFactory = _ => "bench" };
        var ranks = new Option<int>("--nproc") { Description = "Worker processes for DDP and FSDP (the threads are split between them).", DefaultValueFactory = _ => 2 };
        var steps = new Option<int>("--steps") { Description = "Timed steps per setup (the median is reported).", DefaultValueFactory = _ => 5 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };
        var worker = new Option<string?>("--worker") { Hidden = true };
        var rank = new Option<int>("--rank") { Hidden = true };
        var worldSize = new Option<int>("--world-size") { Hidden = true };
        var port = new Option<int>("--master-port") { Hidden = true };
        var threads = new Option<int>("--threads") { Hidden = true, DefaultValueFactory = _ => Environment.ProcessorCount };
        var result = new Option<string?>("--result") { Hidden = true };
        var command = new Command("parallel", "Training-step samples/s and MFU on one process, with DDP and with FSDP across worker processes, and all-reduce bandwidth.")
        {
            config, ranks, steps, json, worker, rank, worldSize, port, threads, result,
        };
        command.SetAction(parse =>
        {
            var name = parse.GetValue(config)!;
            var model = DiTConfig.Preset(name);
            if (parse.GetValue(worker) is { } mode)
            {
                var (status, _, _) = WorkerMessages.Writers(System.Console.Out);
                var timeout = TimeSpan.FromMinutes(5);
                using var store = TcpStore.Connect("127.0.0.1", parse.GetValue(port), timeout);
                using var scoped = store.WithPrefix("bench");
                using var group = ProcessGroup.Create(ProcessGroupBackend.Gloo, scoped, parse.GetValue(rank), parse.GetValue(worldSize), timeout);
                ParallelBenchmark.RunWorker(model, Enum.Parse<ParallelMode>(mode, ignoreCase: true), group, parse.GetValue(threads), parse.GetValue(steps), parse.GetValue(result)!, status);
                return 0;
            }

            RuntimeCheck.WarnIfSlowBlas();
            var n = parse.GetValue(ranks);
            var benchmark = new ParallelBenchmark
            {
                Config = model,
                Ranks = n,
                Steps = parse.GetValue(steps),
                WorkerArguments = (m, r, p, t, file) =>
                [
                    "bench", "parallel", "--config", name, "--steps", parse.GetValue(steps).ToString(), "--worker", m.ToString(), "--rank", r.ToString(),
                    "--world-size", n.ToString(), "--master-port", p.ToString(), "--threads", t.ToString(), "--result", file,
                ],
            };
            ParallelBenchmarkReport report = null!;
            AnsiConsole.Status().Start("benchmarking", context =>
            {
                report = benchmark.Run(new Progress<string>(message => context.Status(Markup.Escape(message))));
            });

            AnsiConsole.Write(StepTable(report, name));
            AnsiConsole.MarkupLine("[grey]peak: all threads' 2048³ fp32 GEMM rate, the median of measurements taken right before each timed step (each rank measures its threads' share while the others measure theirs)[/]");
            AnsiConsole.MarkupLine($"FSDP step ÷ DDP step = {report.FsdpOverDdp:F3} (goal ≤ 1.10)");
            var bandwidth = new Table().Title($"Gloo all_reduce, {n} ranks on loopback").Border(TableBorder.Rounded).AddColumns("size", "time (median)", "algorithm GB/s", "bus GB/s");
            foreach (var row in report.AllReduce)
            {
                bandwidth.AddRow($"{row.Megabytes} MB", $"{row.Seconds * 1000:F2} ms", row.AlgorithmGBps.ToString("F2"), row.BusGBps.ToString("F2"));
            }

            AnsiConsole.Write(bandwidth);
            if (parse.GetValue(json) is { } file)
            {
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(report, s_json));
            }

            return 0;
        });
        return command;
    }

    /// <summary>
    /// One row per setup. The job's samples/s comes first: a rank of DDP or FSDP trains fewer samples per second
    /// than the single process, yet the job trains more, and only the job's figure compares across setups.
    /// </summary>
    internal static Table StepTable(ParallelBenchmarkReport report, string config)
    {
        var table = new Table().Title($"training step, config {Markup.Escape(config)}, batch 4 per rank").Border(TableBorder.Rounded)
            .AddColumns("setup", "step (median)", "samples/s (job)", "samples/s per rank", "model GFLOP/s", "fp32 GEMM peak GFLOP/s", "MFU (goal ≥ 75%)", "exposed communication");
        foreach (var run in report.Runs)
        {
            var setup = run.Mode == ParallelMode.None ? $"single process, {run.Threads} threads" : $"{run.Mode.ToString().ToUpperInvariant()}, {run.Ranks} ranks × {run.Threads} thread(s)";
            table.AddRow(setup, $"{run.StepSeconds * 1000:F0} ms", run.SamplesPerSecond.ToString("F2"), run.SamplesPerSecondPerRank.ToString("F2"),
                (run.Ranks * run.AchievedGflops).ToString("F1"), (run.Ranks * run.PeakGflops).ToString("F1"), run.Mfu.ToString("P1"),
                run.Mode == ParallelMode.None ? "-" : $"{run.ExposedCommunicationSeconds * 1000:F0} ms ({run.ExposedCommunicationSeconds / run.StepSeconds:P0} of the step)");
        }

        return table;
    }
}
