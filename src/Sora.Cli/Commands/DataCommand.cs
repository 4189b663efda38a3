using System.CommandLine;
using System.Text.Json;
using Sora.Checkpoint.Formats;
using Sora.Distributed.Pipelines;
using Sora.Model.Vae;
using Sora.Torch;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora data ...</c>: dataset tools.</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var command = new Command("data", "Dataset tools.");
        command.Subcommands.Add(CreateEncode());
        command.Subcommands.Add(DataGenCommand.Create());
        command.Subcommands.Add(DataInspectCommand.Create());
        return command;
    }

    private static Command CreateEncode()
    {
        var run = new Option<DirectoryInfo>("--run") { Description = "A run whose VAE encodes (and whose job defines the pixel dataset).", Required = true };
        var output = new Option<FileInfo>("--output") { Description = "The latents file to write (safetensors).", Required = true };
        var samples = new Option<int?>("--samples") { Description = "How many clips (default: the job's data.samples)." };
        var command = new Command("encode", "Encode a pixel dataset (the job's synthetic clips) into VAE latents, one tensor per clip with its caption.") { run, output, samples };
        command.SetAction(parse =>
        {
            var directory = new RunDirectory(parse.GetRequiredValue(run).FullName);
            var job = directory.LoadJob();
            if (parse.GetValue(samples) is { } count)
            {
                job = job with { Data = job.Data with { Samples = count } };
            }

            TorchRuntime.SetThreads(job.Threads > 0 ? job.Threads : Environment.ProcessorCount);
            using var vae = new VideoVae(job.Vae);
            RunDirectory.LoadWeights(vae, directory.VaeWeights);
            var data = SyntheticVideoSet.Generate(job.Data, job.Seed, new Progress<string>(m => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(m)}[/]")));
            using var latents = LatentSet.Encode(vae, data);
            using var scope = Tensor.NewDisposeScope();
            var tensors = new Dictionary<string, Tensor>();
            var captions = new List<string>();
            for (var i = 0; i < latents.Train.Count; i++)
            {
                // Stored un-normalised (as the VAE gives them); the statistics ride along in the metadata.
                tensors[$"latent.{i:D6}"] = latents.Statistics.Denormalize(latents.Train[i].Latent.Unsqueeze(0)).Squeeze(0);
                captions.Add(latents.Train[i].Caption);
            }

            var file = parse.GetRequiredValue(output).FullName;
            SafeTensorsFile.Write(file, tensors, new Dictionary<string, string>
            {
                ["captions"] = JsonSerializer.Serialize(captions),
                ["latent_mean"] = JsonSerializer.Serialize(latents.Statistics.Mean),
                ["latent_std"] = JsonSerializer.Serialize(latents.Statistics.Std),
                ["vae"] = directory.VaeWeights,
            });
            AnsiConsole.MarkupLine($"wrote {tensors.Count:N0} latents to [blue]{Markup.Escape(file)}[/]");
            return 0;
        });
        return command;
    }
}
