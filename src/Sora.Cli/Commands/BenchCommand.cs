using System.CommandLine;
using System.Text.Json;
using Sora.Cli.Bench;
using Sora.Cli.Console;
using Sora.Distributed.Devices;
using Sora.Torch;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora bench ...</c>: benchmarks reported as ratios against a baseline measured in the same run.</summary>
internal static class BenchCommand
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public static Command Create()
    {
        var command = new Command("bench", "Benchmarks, each against a baseline measured in the same run.");
        command.Subcommands.Add(CreateBinding());
        command.Subcommands.Add(CreateStep());
        command.Subcommands.Add(BenchParallelCommand.Create());
        command.Subcommands.Add(BenchDataCommand.Create());
        command.Subcommands.Add(BenchCheckpointCommand.Create());
        command.Subcommands.Add(BenchRecoveryCommand.Create());
        command.Subcommands.Add(BenchGoodputCommand.Create());
        command.Subcommands.Add(BenchControlPlaneCommand.Create());
        command.Subcommands.Add(BenchMetricsCommand.Create());
        return command;
    }

    private static Command CreateStep()
    {
        var config = new Option<string>("--config") { Description = "Model config: bench, tiny, dit-s or dit-b.", DefaultValueFactory = _ => "bench" };
        var steps = new Option<int>("--steps") { Description = "Timed steps (the median is reported).", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "libtorch and OpenBLAS threads (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };
        var profile = new Option<FileInfo?>("--profile") { Description = "Run one more step under libtorch's operator profiler: write its Chrome trace here and print the operators that took the most time." };
        var device = new Option<string>("--device") { Description = "cpu, or cuda[:N] on a machine whose shim was built against a CUDA libtorch.", DefaultValueFactory = _ => "cpu" };
        var batch = new Option<int>("--batch") { Description = "Samples per step (the bench config's definition is 4).", DefaultValueFactory = _ => 4 };
        OptionRules.RequireAtLeast(1, steps, threads, batch);
        var mixed = new Option<string>("--mixed-precision") { Description = "none, or bf16: FSDP on one rank with fp32 master shards and bf16 compute (MFU is then against the bf16 GEMM peak).", DefaultValueFactory = _ => "none" };
        mixed.AcceptOnlyFromAmong("none", "bf16");
        var command = new Command("step", "Training-step time, samples/s, model FLOPs and MFU against the GEMM peak measured in the same run.") { config, steps, threads, json, profile, device, batch, mixed };
        command.SetAction(parse =>
        {
            RuntimeCheck.WarnIfSlowBlas();
            var name = parse.GetValue(config)!;
            var model = Sora.Model.Dit.DiTConfig.Preset(name);
            // cuda[:N] is refused as a job's device is (no CUDA build, no device N), before anything runs.
            var requested = Device.Parse(parse.GetValue(device)!);
            var placement = requested.Type == DeviceType.Cuda
                ? DevicePlacement.ForThisProcess(DeviceSetting.Cuda, Math.Max(requested.Index, 0)).Activate()
                : DevicePlacement.Cpu;
            var target = placement.Device;

            // bf16 compute runs under FSDP, whose shards keep the fp32 master weights: a one-rank group here.
            var bf16 = parse.GetValue(mixed) == "bf16";
            using var store = bf16 ? Sora.Torch.Distributed.TcpStore.CreateServer("127.0.0.1", 0, TimeSpan.FromMinutes(1)) : null;
            using var group = bf16
                ? Sora.Torch.Distributed.ProcessGroup.Create(placement.Backend, store!, 0, 1, TimeSpan.FromMinutes(1))
                : null;

            // The bench config is fixed by its definition: a (4, 8, 16, 16) latent, batch 4 per rank.
            var benchmark = new StepBenchmark
            {
                Config = model,
                Device = target,
                Group = group,
                Mode = bf16 ? ParallelMode.Fsdp : ParallelMode.None,
                ComputeDType = bf16 ? ScalarType.BFloat16 : null,
                Batch = parse.GetValue(batch),
                Latent = (8, 16, 16),
                Steps = parse.GetValue(steps),
                Threads = parse.GetValue(threads),
                ProfilePath = parse.GetValue(profile)?.FullName,
            };
            StepBenchmarkReport report = null!;
            AnsiConsole.Status().Start("benchmarking", context =>
            {
                report = benchmark.Run(new Progress<string>(message => context.Status(Markup.Escape(message))));
            });

            var table = new Table().Title($"training step, config {Markup.Escape(name)}").Border(TableBorder.Rounded).AddColumns("figure", "value");
            table.AddRow("device", target.ToString() + (bf16 ? " (FSDP, 1 rank, bf16 compute)" : string.Empty));
            table.AddRow("threads", report.Threads.ToString());
            table.AddRow("parameters", report.Parameters.ToString("N0"));
            table.AddRow("tokens per sample × batch", $"{report.TokensPerSample} × {report.Batch}");
            table.AddRow("step time (median)", $"{report.StepSeconds * 1000:F0} ms");
            table.AddRow("samples/s", report.SamplesPerSecond.ToString("F2"));
            table.AddRow("model GFLOP per step", $"{report.Flops.Total / 1e9:F1} (linear {report.Flops.Linear / 1e9:F1}, attention {report.Flops.Attention / 1e9:F1}, conditioning {report.Flops.Conditioning / 1e9:F3}, text {report.Flops.Text / 1e9:F2})");
            table.AddRow("achieved GFLOP/s", report.AchievedGflops.ToString("F1"));
            var size = target.Type == DeviceType.Cuda ? "8192³" : "2048³";
            var when = target.Type == DeviceType.Cuda || bf16 ? "same run" : "median, measured before each timed step";
            table.AddRow($"{(bf16 ? "bf16" : "fp32")} GEMM peak GFLOP/s ({size}, {when})", report.PeakGflops.ToString("F1"));
            table.AddRow(target.Type == DeviceType.Cuda || bf16 ? "MFU" : "MFU (goal ≥ 75%)", report.Mfu.ToString("P1"));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine("[grey]FLOPs: 6·(per-token parameters)·tokens + 12·layers·tokens²·hidden + 6·(conditioning parameters) per sample + 6·(text encoder parameters)·caption tokens[/]");
            if (report.Profile is { } operators)
            {
                var top = new Table().Title("profiled step: self time by operator").Border(TableBorder.Rounded).AddColumns("operator", "calls", "self ms", "share");
                foreach (var op in operators.Take(20))
                {
                    top.AddRow(Markup.Escape(op.Name), op.Calls.ToString(), (op.SelfSeconds * 1000).ToString("F1"), op.Fraction.ToString("P1"));
                }

                AnsiConsole.Write(top);
                AnsiConsole.MarkupLine($"[grey]trace: {Markup.Escape(parse.GetValue(profile)!.FullName)} (chrome://tracing or ui.perfetto.dev)[/]");
            }

            if (parse.GetValue(json) is { } file)
            {
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(report, s_json));
            }

            return 0;
        });
        return command;
    }

    private static Command CreateBinding()
    {
        var size = new Option<long>("--size") { Description = "GEMM matrix size n (n×n×n).", DefaultValueFactory = _ => 2048 };
        var iterations = new Option<int>("--iterations") { Description = "GEMMs per timed run.", DefaultValueFactory = _ => 3 };
        var repeats = new Option<int>("--repeats") { Description = "Paired timed runs (binding, then native); the median ratio is reported.", DefaultValueFactory = _ => 7 };
        var calls = new Option<int>("--calls") { Description = "Small-op calls per timed run.", DefaultValueFactory = _ => 200_000 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };
        OptionRules.RequireAtLeast(1, size, iterations, repeats, calls);

        var command = new Command("binding", "fp32 GEMM GFLOP/s through the C# binding vs inside the native shim (1 thread and all threads), and per-call overhead.")
        {
            size, iterations, repeats, calls, json,
        };
        command.SetAction(parse =>
        {
            RuntimeCheck.WarnIfSlowBlas();
            var threadCounts = Environment.ProcessorCount > 1 ? new[] { 1, Environment.ProcessorCount } : [1];
            var benchmark = new BindingBenchmark
            {
                GemmSize = parse.GetValue(size),
                GemmIterations = parse.GetValue(iterations),
                Repeats = parse.GetValue(repeats),
                SmallOpIterations = parse.GetValue(calls),
                ThreadCounts = threadCounts,
            };

            BindingBenchmarkReport report = null!;
            AnsiConsole.Status().Start("benchmarking", context =>
            {
                report = benchmark.Run(new Progress<string>(message => context.Status(Markup.Escape(message))));
            });

            Render(report);
            if (parse.GetValue(json) is { } file)
            {
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(report, s_json));
                AnsiConsole.MarkupLine($"results written to [blue]{Markup.Escape(file.FullName)}[/]");
            }

            return 0;
        });
        return command;
    }

    private static void Render(BindingBenchmarkReport report)
    {
        AnsiConsole.MarkupLine($"libtorch {Markup.Escape(report.TorchVersion)}, BLAS {Markup.Escape(report.BlasLibrary)}");
        var gemm = new Table().Title("fp32 GEMM").Border(TableBorder.Rounded)
            .AddColumns("threads", "n", "binding GFLOP/s", "native GFLOP/s", "binding ÷ native, median of pairs (goal ≥ 0.97)");
        foreach (var row in report.Gemm)
        {
            var ratio = row.Ratio >= 0.97 ? $"[green]{row.Ratio:F3}[/]" : $"[red]{row.Ratio:F3}[/]";
            gemm.AddRow(row.Threads.ToString(), row.Size.ToString(), row.BindingGflops.ToString("F1"), row.NativeGflops.ToString("F1"), ratio);
        }

        AnsiConsole.Write(gemm);
        var small = new Table().Title("one-element add, per call").Border(TableBorder.Rounded)
            .AddColumns("binding ns", "native ns", "binding overhead ns");
        small.AddRow(report.SmallOp.BindingNanoseconds.ToString("F0"), report.SmallOp.NativeNanoseconds.ToString("F0"),
            report.SmallOp.OverheadNanoseconds.ToString("F0"));
        AnsiConsole.Write(small);
    }
}
