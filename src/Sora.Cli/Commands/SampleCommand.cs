using System.CommandLine;
using Sora.Data.Video;
using Sora.Distributed.Pipelines;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora sample</c>: generates videos from a trained run, plain or in one of the modes that use given clips or tie the end to the start.</summary>
internal static class SampleCommand
{
    /// <summary>
    /// The SDEdit time <c>--mode edit</c> starts from when <c>--strength</c> is not given: on the demo run (runs/tiny) the
    /// lowest that gave all 24 edits the new prompt's colour, keeping the given clip's direction in 23 (docs/model.md).
    /// </summary>
    public const double DefaultStrength = 0.8;

    private static readonly string[] Modes = ["image-to-video", "extend-forward", "extend-backward", "edit", "connect", "loop"];

    public static Command Create()
    {
        var run = new RunOption("A finished training run.");
        var prompts = new Option<string[]>("--prompt") { Description = "A caption (repeat for several).", Required = true, AllowMultipleArgumentsPerToken = true };
        var frames = new Option<int>("--frames") { DefaultValueFactory = _ => 8 };
        var height = new Option<int>("--height") { DefaultValueFactory = _ => 32 };
        var width = new Option<int>("--width") { DefaultValueFactory = _ => 32 };
        var sampling = new SamplingOverrides();
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 0 };
        var given = new Option<FileInfo?>("--given") { Description = "A video or image whose frames condition the result." };
        var givenEnd = new Option<FileInfo?>("--given-end") { Description = "With --mode connect: the video the result ends as." };
        var mode = new Option<string?>("--mode") { Description = "image-to-video (first frame of --given), extend-forward (its prefix), extend-backward (its suffix), edit (--given re-imagined under the prompt), connect (from --given to --given-end) or loop (no --given). Default: image-to-video with --given, plain without." };
        mode.AcceptOnlyFromAmong(Modes);
        var strength = new Option<double?>("--strength") { Description = $"With --mode edit: how much to change, in (0, 1]; 1 ignores the clip, small values stay close to it (default {DefaultStrength})." };
        var output = new Option<DirectoryInfo>("--output") { DefaultValueFactory = _ => new DirectoryInfo("samples") };
        var device = DeviceOption.Create();
        var command = new Command("sample", "Generate videos (GIF, MP4 and a PNG contact sheet) from a trained run.")
        {
            prompts, frames, height, width, sampling.Steps, sampling.Guidance, seed, given, givenEnd, mode, strength, output, device,
        };
        run.AddTo(command);
        command.SetAction(parse =>
        {
            var chosen = ChooseMode(parse.GetValue(mode), parse.GetValue(given), parse.GetValue(givenEnd), parse.GetValue(strength));
            var directory = run.Open(parse);
            var job = directory.LoadJob();
            var generator = directory.LoadGenerator(sampling: sampling.Apply(parse, job), device: DeviceOption.Place(parse, device, job).Device);
            var captions = parse.GetRequiredValue(prompts);
            var (f, h, w, s) = (parse.GetValue(frames), parse.GetValue(height), parse.GetValue(width), parse.GetValue(seed));
            RequireLatentFrames(chosen, f, generator.Vae.Config.TemporalDownsample);
            VideoClip[]? Given(FileInfo? file) => file is null ? null : Enumerable.Repeat(Ffmpeg.Default.DecodeRaw(file.FullName, w, h), captions.Length).ToArray();
            var start = Given(parse.GetValue(given));

            // Extension keeps half of the given clip's latent frames (at least one).
            var half = start is null ? 1 : Math.Max(1, (int)generator.Vae.Config.LatentSize(Math.Min(start[0].Frames, f), h, w).Frames / 2);
            var clips = chosen switch
            {
                null => generator.Generate(captions, f, h, w, s),
                "edit" => generator.Edit(captions, f, h, w, s, start!, parse.GetValue(strength) ?? DefaultStrength),
                "connect" => generator.Connect(captions, f, h, w, s, start!, Given(parse.GetValue(givenEnd))!),
                "loop" => generator.Loop(captions, f, h, w, s),
                "extend-forward" => generator.Generate(captions, f, h, w, s, start, half),
                "extend-backward" => generator.Generate(captions, f, h, w, s, start, -half),
                _ => generator.Generate(captions, f, h, w, s, start, 1),
            };
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

    /// <summary>
    /// Image-to-video, extension, connection and loops keep or tie whole latent frames, so the video needs two or more: refused, with the
    /// <c>--frames</c> that would do, when a run's VAE packs all the frames asked for into one.
    /// </summary>
    internal static void RequireLatentFrames(string? mode, int frames, int framesPerLatentFrame)
    {
        if (mode is "image-to-video" or "extend-forward" or "extend-backward" or "connect" or "loop" && (frames + framesPerLatentFrame - 1) / framesPerLatentFrame < 2)
        {
            throw new ArgumentException(
                $"--mode {mode} works on latent frames and this run's VAE packs {framesPerLatentFrame} frames into one, so --frames {frames} makes only one: " +
                $"use --frames {(2 * framesPerLatentFrame)} or more, on a run trained on clips that long, or a run whose VAE keeps more latent frames (configs/tiny-frames.yaml)");
        }
    }

    /// <summary>
    /// The mode the options ask for (null: plain sampling), or an <see cref="ArgumentException"/> naming the option that does
    /// not fit and what is allowed; checked before the run is loaded.
    /// </summary>
    internal static string? ChooseMode(string? mode, FileInfo? given, FileInfo? givenEnd, double? strength)
    {
        var chosen = mode ?? (given is null ? null : "image-to-video");
        if (chosen == "loop" && given is not null)
        {
            throw new ArgumentException("--mode loop generates from the prompt alone: drop --given (modes that use it: image-to-video, extend-forward, extend-backward, edit, connect)");
        }

        if (chosen is not null and not "loop" && given is null)
        {
            throw new ArgumentException($"--mode {chosen} conditions on a given clip: give --given too");
        }

        if (givenEnd is not null && chosen != "connect")
        {
            throw new ArgumentException($"--given-end is the end of --mode connect; it does not apply to {(chosen is null ? "plain sampling" : $"--mode {chosen}")} (allowed: --mode connect)");
        }

        if (chosen == "connect" && givenEnd is null)
        {
            throw new ArgumentException("--mode connect needs --given-end: the clip the video ends as (--given is the one it starts as)");
        }

        if (strength is { } value)
        {
            if (chosen != "edit")
            {
                throw new ArgumentException($"--strength is how much --mode edit changes the given clip; it does not apply to {(chosen is null ? "plain sampling" : $"--mode {chosen}")} (allowed: --mode edit)");
            }

            if (!(value is > 0 and <= 1))
            {
                throw new ArgumentException($"--strength: {value} is outside the allowed (0, 1] (1 = pure noise, ignoring the clip; small = close to it)");
            }
        }

        return chosen;
    }
}
