using System.CommandLine;
using Sora.Data.Video;
using Sora.Distributed.Pipelines;
using Sora.Model.Sampling;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora sample</c>: generates videos from a trained run, optionally continuing given frames.</summary>
internal static class SampleCommand
{
    public static Command Create()
    {
        var run = new Option<DirectoryInfo>("--run") { Description = "A finished training run directory.", Required = true };
        var prompts = new Option<string[]>("--prompt") { Description = "A caption (repeat for several).", Required = true, AllowMultipleArgumentsPerToken = true };
        var frames = new Option<int>("--frames") { DefaultValueFactory = _ => 8 };
        var height = new Option<int>("--height") { DefaultValueFactory = _ => 32 };
        var width = new Option<int>("--width") { DefaultValueFactory = _ => 32 };
        var steps = new Option<int?>("--steps") { Description = "Euler steps (default: the job's)." };
        var guidance = new Option<double?>("--guidance") { Description = "Classifier-free guidance scale (default: the job's)." };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 0 };
        var given = new Option<FileInfo?>("--given") { Description = "A video or image whose frames condition the result." };
        var mode = new Option<string>("--mode") { Description = "With --given: image-to-video (first frame), extend-forward (given prefix) or extend-backward (given suffix).", DefaultValueFactory = _ => "image-to-video" };
        mode.AcceptOnlyFromAmong("image-to-video", "extend-forward", "extend-backward");
        var output = new Option<DirectoryInfo>("--output") { DefaultValueFactory = _ => new DirectoryInfo("samples") };
        var command = new Command("sample", "Generate videos (GIF, MP4 and a PNG contact sheet) from a trained run.")
        {
            run, prompts, frames, height, width, steps, guidance, seed, given, mode, output,
        };
        command.SetAction(parse =>
        {
            var directory = new RunDirectory(parse.GetRequiredValue(run).FullName);
            var job = directory.LoadJob();
            var sampling = job.Sampling.Options with
            {
                Steps = parse.GetValue(steps) ?? job.Sampling.Options.Steps,
                GuidanceScale = parse.GetValue(guidance) ?? job.Sampling.Options.GuidanceScale,
            };
            var generator = directory.LoadGenerator(sampling: sampling);
            var captions = parse.GetRequiredValue(prompts);
            var (f, h, w) = (parse.GetValue(frames), parse.GetValue(height), parse.GetValue(width));
            IReadOnlyList<VideoClip>? conditioning = null;
            var keep = 1;
            if (parse.GetResult(mode) is { Implicit: false } && parse.GetValue(given) is null)
            {
                throw new ArgumentException("--mode chooses how --given conditions the videos: give --given too");
            }

            if (parse.GetValue(given) is { } file)
            {
                var clip = Ffmpeg.Default.DecodeRaw(file.FullName, w, h);
                conditioning = Enumerable.Repeat(clip, captions.Length).ToArray();
                var latentFrames = (int)generator.Vae.Config.LatentSize(Math.Min(clip.Frames, f), h, w).Frames;
                keep = parse.GetValue(mode) switch
                {
                    "extend-forward" => Math.Max(1, latentFrames / 2),
                    "extend-backward" => -Math.Max(1, latentFrames / 2),
                    _ => 1,
                };
            }

            var clips = generator.Generate(captions, f, h, w, parse.GetValue(seed), conditioning, keep);
            var outputDirectory = parse.GetValue(output)!.FullName;
            Directory.CreateDirectory(outputDirectory);
            for (var i = 0; i < clips.Count; i++)
            {
                var stem = Path.Combine(outputDirectory, $"{i:D2}-{Evaluation.Slug(captions[i])}");
                Ffmpeg.Default.WriteGif(clips[i], stem + ".gif", job.Sampling.Fps, job.Sampling.Upscale);
                Ffmpeg.Default.WriteMp4(clips[i], stem + ".mp4", job.Sampling.Fps, job.Sampling.Upscale);
                ContactSheet.WritePng(clips[i], stem + ".png", upscale: job.Sampling.Upscale);
                AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(stem)}[/].mp4/.gif/.png");
            }

            return 0;
        });
        return command;
    }
}
