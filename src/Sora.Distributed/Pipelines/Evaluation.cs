using Sora.Data.Synthetic;
using Sora.Data.Video;

namespace Sora.Distributed.Pipelines;

/// <summary>
/// Judges generated videos automatically: for prompts covering every colour and direction, is the dominant
/// foreground colour the captioned one, and does the shape's centroid move the captioned way?
/// </summary>
public static class Evaluation
{
    public static EvaluationReport Run(VideoGenerator generator, IReadOnlyList<EvalPrompt> prompts, IReadOnlyDictionary<string, Rgb> palette,
        int frames, int height, int width, ulong seed, string? outputDirectory = null, int upscale = 4, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(prompts);
        var results = new List<PromptResult>();
        const int chunk = 8;
        for (var start = 0; start < prompts.Count; start += chunk)
        {
            var batch = prompts.Skip(start).Take(chunk).ToArray();
            progress?.Report($"evaluating prompts {start + 1}-{start + batch.Length} of {prompts.Count}");
            var clips = generator.Generate(batch.Select(p => p.Caption).ToArray(), frames, height, width, seed + (ulong)start);
            for (var i = 0; i < batch.Length; i++)
            {
                var measured = ClipMeasurements.Default.Measure(clips[i], palette);
                results.Add(new PromptResult(batch[i].Caption, batch[i].Color, measured.Color ?? "(none)", batch[i].Direction.ToString().ToLowerInvariant(),
                    measured.Direction.ToString().ToLowerInvariant()));
                if (outputDirectory is not null)
                {
                    Directory.CreateDirectory(outputDirectory);
                    ContactSheet.WritePng(clips[i], Path.Combine(outputDirectory, $"{start + i:D2}-{Slug(batch[i].Caption)}.png"), upscale: upscale);
                }
            }
        }

        return new EvaluationReport(results);
    }

    /// <summary>A file-name stem for a caption: "red-circle-moves-left-black-background".</summary>
    public static string Slug(string caption) =>
        string.Join('-', caption.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => w is not ("a" or "on" or "the")));
}

/// <summary>What one prompt asked for and what the measurement saw.</summary>
public sealed record PromptResult(string Caption, string ExpectedColor, string MeasuredColor, string ExpectedDirection, string MeasuredDirection)
{
    public bool ColorCorrect => ExpectedColor == MeasuredColor;

    public bool DirectionCorrect => ExpectedDirection == MeasuredDirection;
}

/// <summary>Accuracies over all prompts.</summary>
public sealed record EvaluationReport(IReadOnlyList<PromptResult> Prompts)
{
    public double ColorAccuracy => Prompts.Count == 0 ? 0 : Prompts.Count(p => p.ColorCorrect) / (double)Prompts.Count;

    public double DirectionAccuracy => Prompts.Count == 0 ? 0 : Prompts.Count(p => p.DirectionCorrect) / (double)Prompts.Count;
}
