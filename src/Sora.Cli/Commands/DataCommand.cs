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
        command.Subcommands.Add(DataImportCommand.Create());
        return command;
    }

    private static Command CreateEncode()
    {
        var run = new RunOption("A run whose VAE encodes (and whose job defines the pixel dataset).");
        var output = new Option<FileInfo>("--output") { Description = "Without --input: the latents file to write (safetensors). With --input: the directory for the latent Parquet shards.", Required = true };
        var input = new Option<DirectoryInfo?>("--input") { Description = "A pixel dataset (Parquet shards from data gen or data import) to encode into a latent dataset." };
        var samples = new Option<int?>("--samples") { Description = "How many clips (default: the job's data.samples)." };
        var command = new Command("encode", "Encode pixels into VAE latents: Parquet pixel shards (--input) into Parquet latent shards, or the job's synthetic clips into one safetensors file.") { output, input, samples };
        run.AddTo(command);
        command.SetAction(parse =>
        {
            var directory = run.Open(parse);
            var job = directory.LoadJob();
            if (parse.GetValue(input) is { } pixels)
            {
                TorchRuntime.SetThreads(job.Threads > 0 ? job.Threads : Environment.ProcessorCount);
                using var encoder = new VideoVae(job.Vae);
                RunDirectory.LoadWeights(encoder, directory.VaeWeights);
                var target = parse.GetRequiredValue(output).FullName;
                long encoded = 0;
                IReadOnlyList<Sora.Data.Dataset.VideoShard> shards = [];
                AnsiConsole.Status().Start("encoding", context =>
                {
                    using var writer = new Sora.Data.Dataset.VideoShardWriter(target, new Sora.Data.Dataset.VideoShardWriterOptions());
                    encoded = LatentShards.Encode(encoder, directory.VaeWeights, pixels.FullName, writer, new Progress<long>(n => context.Status($"{n:N0} clips encoded")));
                    shards = writer.Complete();
                });
                AnsiConsole.MarkupLine($"wrote {encoded:N0} latents in {shards.Count} shard(s) to [blue]{Markup.Escape(target)}[/]");
                return 0;
            }

            if (parse.GetValue(samples) is { } count)
            {
                job = job with { Data = job.Data with { Samples = count, Generate = false } };
            }

            TorchRuntime.SetThreads(job.Threads > 0 ? job.Threads : Environment.ProcessorCount);
            using var vae = new VideoVae(job.Vae);
            RunDirectory.LoadWeights(vae, directory.VaeWeights);
            var data = VideoSet.Load(job.Data, job.Seed, new Progress<string>(m => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(m)}[/]")));
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
