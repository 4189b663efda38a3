using Sora.Data.Synthetic;
using Sora.Data.Video;

namespace Sora.Distributed.Pipelines;

/// <summary>
/// Judges generated videos automatically: for prompts covering every shape, colour, background and direction, are
/// the background and the foreground's colour the captioned ones, does the foreground move the captioned way, is it
/// one object, and has it the captioned shape? The same measurements on dataset clips, whose truth is known, show
/// how far they can be trusted.
/// </summary>
public static class Evaluation
{
    // Videos generated at once: enough to use the cores, few enough to keep memory small.
    private const int Batch = 8;

    /// <summary>What a trained main job must reach (issue 26); clean background is a mean share of pixels, the others shares of prompts.</summary>
    public static MeasurementAccuracy Goals { get; } = new(Background: 0.95, Color: 0.95, Direction: 0.95, OneObject: 0.95, Shape: 0.80, CleanBackground: 0.98);

    public static EvaluationReport Run(VideoGenerator generator, IReadOnlyList<EvalPrompt> prompts, MovingShapesOptions options,
        int frames, int height, int width, ulong seed, string? outputDirectory = null, int upscale = 4, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(options);
        var checks = new List<PromptCheck>();
        if (outputDirectory is not null && Directory.Exists(outputDirectory))
        {
            // An earlier evaluation's sheets (other prompts, or as many under other names) would sit beside this one's.
            foreach (var sheet in Directory.GetFiles(outputDirectory, "*.png"))
            {
                File.Delete(sheet);
            }
        }

        for (var start = 0; start < prompts.Count; start += Batch)
        {
            var batch = prompts.Skip(start).Take(Batch).ToArray();
            progress?.Report($"evaluating prompts {start + 1}-{start + batch.Length} of {prompts.Count}");
            var clips = generator.Generate(batch.Select(p => p.Caption).ToArray(), frames, height, width, seed + (ulong)start);
            for (var i = 0; i < batch.Length; i++)
            {
                checks.Add(Check(batch[i], clips[i], options));
                if (outputDirectory is not null)
                {
                    Directory.CreateDirectory(outputDirectory);
                    ContactSheet.WritePng(clips[i], Path.Combine(outputDirectory, $"{start + i:D2}-{Slug(batch[i].Caption)}.png"), upscale: upscale);
                }
            }
        }

        return new EvaluationReport(checks.Select(PromptResult.Of).ToArray(), MeasurementAccuracy.Of(checks));
    }

    /// <summary>
    /// The measurements' accuracy on the first <paramref name="count"/> clips of the moving-shapes dataset of
    /// <paramref name="options"/> and <paramref name="seed"/> (videos only, where the options have any), as drawn and
    /// after a round trip through <paramref name="generator"/>'s VAE: the blur every generated video goes through.
    /// With <paramref name="renoise"/>, also after each clip is noised to each of those times and denoised by the DiT
    /// under its own caption (SDEdit): where, between the clip (time 0) and a fresh sample (time 1), the model loses a
    /// property. <paramref name="noiseSeed"/> seeds that noise.
    /// </summary>
    public static DatasetAccuracy MeasureDataset(VideoGenerator generator, MovingShapesOptions options, ulong seed, int count,
        IProgress<string>? progress = null, IReadOnlyList<double>? renoise = null, ulong noiseSeed = 1)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        renoise ??= [];
        foreach (var strength in renoise)
        {
            if (!(strength is > 0 and <= 1))
            {
                throw new ArgumentOutOfRangeException(nameof(renoise), strength, "a renoise time must lie in (0, 1]");
            }
        }

        var dataset = new MovingShapesGenerator(options, seed);
        var videos = options.Lengths.Any(l => l > 1);
        var samples = Enumerable.Range(0, int.MaxValue).Select(i => dataset.Generate(i)).Where(s => !videos || s.Frames > 1).Take(count).ToArray();
        progress?.Report($"measuring {samples.Length} dataset clips as drawn and after the VAE");
        var drawn = samples.Select(s => Check(s.Prompt, s.Clip, options)).ToArray();
        var decoded = samples.Select(s => Check(s.Prompt, generator.Reconstruct(s.Clip), options)).ToArray();
        var renoised = renoise.Select(strength =>
        {
            progress?.Report($"renoising {samples.Length} dataset clips to time {strength:0.##} and denoising them under their captions");
            var checks = new PromptCheck[samples.Length];
            var batches = Enumerable.Range(0, samples.Length).GroupBy(i => (samples[i].Frames, samples[i].Height, samples[i].Width)).SelectMany(size => size.Chunk(Batch));
            foreach (var batch in batches)
            {
                var first = samples[batch[0]];
                var clips = generator.Edit(batch.Select(i => samples[i].Caption).ToArray(), first.Frames, first.Height, first.Width,
                    noiseSeed + (ulong)batch[0], batch.Select(i => samples[i].Clip).ToArray(), strength);
                for (var j = 0; j < batch.Length; j++)
                {
                    checks[batch[j]] = Check(samples[batch[j]].Prompt, clips[j], options);
                }
            }

            return new RenoisedAccuracy(strength, MeasurementAccuracy.Of(checks));
        }).ToArray();
        return new DatasetAccuracy(samples.Length, MeasurementAccuracy.Of(drawn), MeasurementAccuracy.Of(decoded), renoised);
    }

    /// <summary>A file-name stem for a caption: "red-circle-moves-left-black-background".</summary>
    public static string Slug(string caption) =>
        string.Join('-', caption.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => w is not ("a" or "on" or "the")));

    private static PromptCheck Check(EvalPrompt prompt, VideoClip clip, MovingShapesOptions options) =>
        new(prompt, ClipMeasurements.Default.Measure(clip, options.ForegroundPalette, options.BackgroundPalette));
}

/// <summary>What one prompt asked for (Expected*), what the measurement saw (Measured*, "(none)" without foreground), and which agree.</summary>
/// <param name="Caption">The prompt.</param>
/// <param name="ExpectedBackground">The captioned background.</param>
/// <param name="MeasuredBackground">The background palette's name nearest to the measured background.</param>
/// <param name="ExpectedColor">The captioned colour.</param>
/// <param name="MeasuredColor">The colour that explains most foreground pixels.</param>
/// <param name="ExpectedDirection">The captioned direction.</param>
/// <param name="MeasuredDirection">The direction the foreground moved ("none" below the motion threshold).</param>
/// <param name="ExpectedShape">The captioned shape.</param>
/// <param name="MeasuredShape">The shape most frames' largest region has.</param>
/// <param name="Objects">The most common number of separate regions in a frame.</param>
/// <param name="SingleObjectShare">The fraction of frames that show exactly one region.</param>
/// <param name="BackgroundCorrect">Whether the background is the captioned one.</param>
/// <param name="ColorCorrect">Whether the colour is the captioned one.</param>
/// <param name="DirectionCorrect">Whether the direction is the captioned one.</param>
/// <param name="OneObject">Whether more than half of the frames show exactly one region.</param>
/// <param name="ShapeCorrect">Whether the shape is the captioned one.</param>
/// <param name="CleanBackground">The share of background pixels near the background colour (<see cref="ClipMeasurement.CleanBackground"/>).</param>
public sealed record PromptResult(
    string Caption,
    string ExpectedBackground,
    string MeasuredBackground,
    string ExpectedColor,
    string MeasuredColor,
    string ExpectedDirection,
    string MeasuredDirection,
    string ExpectedShape,
    string MeasuredShape,
    int Objects,
    double SingleObjectShare,
    bool BackgroundCorrect,
    bool ColorCorrect,
    bool DirectionCorrect,
    bool OneObject,
    bool ShapeCorrect,
    double CleanBackground)
{
    private const string None = "(none)";

    public static PromptResult Of(PromptCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        var (prompt, measured) = (check.Prompt, check.Measured);
        return new PromptResult(
            prompt.Caption,
            prompt.Background,
            measured.BackgroundName ?? None,
            prompt.Color,
            measured.Color ?? None,
            Captions.Word(prompt.Direction),
            Captions.Word(measured.Direction),
            Captions.Word(prompt.Shape),
            measured.Shape is { } shape ? Captions.Word(shape) : None,
            measured.Objects,
            measured.SingleObjectShare,
            check.BackgroundCorrect,
            check.ColorCorrect,
            check.DirectionCorrect,
            check.OneObject,
            check.ShapeCorrect,
            measured.CleanBackground);
    }
}

/// <summary>Every prompt's result and the accuracies over all of them.</summary>
public sealed record EvaluationReport(IReadOnlyList<PromptResult> Prompts, MeasurementAccuracy Accuracy);

/// <summary>
/// The measurements' accuracy on <paramref name="Clips"/> dataset clips, as drawn, decoded by the run's VAE, and redrawn by
/// the DiT from each time in <paramref name="Renoised"/>.
/// </summary>
public sealed record DatasetAccuracy(int Clips, MeasurementAccuracy AsDrawn, MeasurementAccuracy AfterVae, IReadOnlyList<RenoisedAccuracy> Renoised);

/// <summary>The accuracy on dataset clips noised to time <paramref name="Strength"/> and denoised by the DiT under their own captions.</summary>
public sealed record RenoisedAccuracy(double Strength, MeasurementAccuracy Accuracy);
