using System.CommandLine;
using System.Text.Json;
using Sora.Cli.Bench;
using Sora.Data;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora bench control-plane</c>: the coordinator's CPU with N simulated agents reporting at 1 Hz, against the idle coordinator.</summary>
internal static class BenchControlPlaneCommand
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public static Command Create()
    {
        var agents = new Option<int>("--agents") { Description = "Simulated agents (each with one rank).", DefaultValueFactory = _ => 1000 };
        var seconds = new Option<int>("--seconds") { Description = "Length of each measured window.", DefaultValueFactory = _ => 30 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };
        var simulate = new Option<int?>("--simulate") { Hidden = true };
        var port = new Option<int>("--coordinator-port") { Hidden = true };
        var command = new Command("control-plane", "The coordinator's CPU (cores) with N simulated agents sending heartbeats and progress at 1 Hz, against the same coordinator idle.")
        {
            agents, seconds, json, simulate, port,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(simulate) is { } n)
            {
                return ControlPlaneBenchmark.Simulate(n, parse.GetValue(port));
            }

            var status = new SynchronousProgress<string>(s => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(s)}[/]"));
            var result = ControlPlaneBenchmark.Run(parse.GetValue(agents), TimeSpan.FromSeconds(parse.GetValue(seconds)), status);
            AnsiConsole.MarkupLine($"coordinator CPU: idle [bold]{result.IdleCores:F3}[/] cores; with {result.Agents} agents at 1 Hz (round of {result.WorldSize} ranks) [bold]{result.LoadedCores:F3}[/] cores; oldest heartbeat {result.MaxHeartbeatAgeSeconds:F1} s. Goal: under 1 core.");
            if (parse.GetValue(json) is { } file)
            {
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(result, s_json));
            }

            return 0;
        });
        return command;
    }
}
