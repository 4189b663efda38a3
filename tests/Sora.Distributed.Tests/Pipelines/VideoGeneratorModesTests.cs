using Sora.Data.Synthetic;
using Sora.Data.Video;
using Sora.Distributed.Pipelines;
using Sora.Distributed.Tests.Support;
using Sora.Distributed.Tests.Training;
using Sora.Model.Sampling;
using Xunit.Abstractions;

namespace Sora.Distributed.Tests.Pipelines;

/// <summary>
/// What each sampling mode promises, measured the way <c>sora eval</c> measures (<see cref="ClipMeasurements"/>) on a model
/// trained for the purpose (<see cref="TrainedShapesRun"/>), over 12 or 24 clips with majority thresholds and, where the
/// model could pass by itself, against plain sampling under the same prompts and seed. The run is the same on every run of
/// one machine (seed 3, two threads, alone in its collection); over ten runs with other CPU kernels (ATEN_CPU_CAPABILITY,
/// OPENBLAS_CORETYPE), as other machines pick, every figure kept its room: plain 12/12, redrawn from 0.3 100 %, edits
/// 24/24 new colours and 22-23/24 kept directions, connections and loops 12/12 at a fifth to a quarter of plain sampling's
/// distance.
/// </summary>
[Collection(nameof(TrainerTests))]
public sealed class VideoGeneratorModesTests(TrainedShapesRun run, ITestOutputHelper output) : IClassFixture<TrainedShapesRun>
{
    private const int Frames = 8;

    private const int Size = 32;

    private static readonly string[] Colors = TrainedShapesRun.Shapes.Colors.Select(c => c.Name).ToArray();

    // Clips the run never saw (its clips come from seed 3).
    private static readonly MovingShapesSample[] Given = UnseenClips(36);

    [Fact]
    public void The_trained_model_draws_the_captions_colour_and_direction()
    {
        var captions = Colors.SelectMany(c => new[] { "left", "right" }.Select(d => $"a {c} circle moves {d} on a black background")).ToArray();
        var measured = Measure(run.Generator.Generate(captions, Frames, Size, Size, seed: 1));
        var right = measured.Where((m, i) => m.Color == Colors[i / 2] && m.Direction == (i % 2 == 0 ? MotionDirection.Left : MotionDirection.Right)).Count();
        output.WriteLine($"trained in {run.TrainingTime.TotalSeconds:F0} s; plain samples with the caption's colour and direction: {right}/12");
        right.Should().BeGreaterThanOrEqualTo(10, $"the modes below are measured on this model (trained in {run.TrainingTime.TotalSeconds:F0} s)");
    }

    [Fact]
    public void Eval_renoise_redraws_dataset_clips_from_each_time_and_a_little_noise_keeps_what_they_show()
    {
        // sora eval --real 16 --renoise 0.3 1: the run's own clips (seed 3), noised to each time and denoised under their captions.
        var accuracy = Evaluation.MeasureDataset(run.Generator, TrainedShapesRun.Shapes, seed: 3, count: 16, renoise: [0.3, 1.0], noiseSeed: 5);
        var (low, fresh) = (accuracy.Renoised[0].Accuracy, accuracy.Renoised[1].Accuracy);
        output.WriteLine($"after the VAE: colour {accuracy.AfterVae.Color:P0}, direction {accuracy.AfterVae.Direction:P0}; " +
            $"from t = 0.3: {low.Color:P0}, {low.Direction:P0}; from t = 1: {fresh.Color:P0}, {fresh.Direction:P0}");
        accuracy.Renoised.Select(r => r.Strength).Should().Equal(0.3, 1.0);
        low.Color.Should().BeGreaterThanOrEqualTo(0.9, "at t = 0.3 the clip's colour is still plain in the input");
        low.Direction.Should().BeGreaterThanOrEqualTo(0.9, "and so is its motion");
        fresh.Color.Should().BeGreaterThanOrEqualTo(0.75, "from pure noise the model draws the captioned colour, as plain samples do");
    }

    [Fact]
    public void An_edit_takes_the_new_prompts_colour_and_keeps_the_given_clips_motion()
    {
        var given = Given.Take(24).ToArray();
        var newColors = given.Select(s => Colors[(Array.IndexOf(Colors, s.Color) + 1) % Colors.Length]).ToArray();
        var prompts = given.Select((s, i) => s.Caption.Replace(s.Color, newColors[i], StringComparison.Ordinal)).ToArray();

        // This model settles colour later than the demo run, which took the new colour in all 24 of its edits at the defaults
        // (strength 0.8, guidance 2). Here guidance 2 gave the new colour in 7 of 12 at 0.8 and kept the direction in 9 of 12
        // at 0.85; guidance 4 at 0.85 does both.
        var generator = run.Run.LoadGenerator(sampling: new SamplingOptions { Steps = 12, GuidanceScale = 4 });
        var edited = Measure(generator.Edit(prompts, Frames, Size, Size, seed: 5, given.Select(s => s.Clip).ToArray(), strength: 0.85));
        var plain = Measure(generator.Generate(prompts, Frames, Size, Size, seed: 5));

        var newColor = edited.Where((m, i) => m.Color == newColors[i]).Count();
        var oldColor = edited.Where((m, i) => m.Color == given[i].Color).Count();
        var kept = edited.Where((m, i) => m.Direction == given[i].Direction).Count();

        // At 0.85 little of the clip's layout is left beyond its motion (a fresh clone measured the first frame 6.7 px off the
        // given row against 7.9 for a plain sample, where the helper's run had 3.0 against 7.1), so what shows that the edit
        // starts from the clip is a low strength: the same prompts at 0.5 stay where the given clips are.
        var near = Measure(generator.Edit(prompts, Frames, Size, Size, seed: 5, given.Select(s => s.Clip).ToArray(), strength: 0.5));
        var givenStarts = given.Select(s => Measure(s.Clip).FirstCentroid).ToArray();
        var nearOff = MeanDistance(near.Select(m => m.FirstCentroid), givenStarts);
        var plainOff = MeanDistance(plain.Select(m => m.FirstCentroid), givenStarts);
        output.WriteLine($"edit: new colour {newColor}/24, old colour {oldColor}/24, direction kept {kept}/24; at strength 0.5 the first frame is {nearOff:F1} px from the given clip's (plain: {plainOff:F1} px)");
        newColor.Should().BeGreaterThanOrEqualTo(20, "the edit follows the new prompt's colour");
        oldColor.Should().BeLessThanOrEqualTo(2, "the old colour is gone");
        kept.Should().BeGreaterThanOrEqualTo(20, "the edit moves the way the given clip moves");
        nearOff.Should().BeLessThan(0.5 * plainOff, "a low-strength edit keeps the given clip's layout; a plain sample of the prompt puts the shape anywhere");
    }

    [Fact]
    public void A_connection_starts_like_the_first_clip_and_ends_like_the_second()
    {
        // Pairs of different colours, prompted with the first clip's caption: the end's colour can only come from the second clip.
        var starts = Given.Take(12).ToArray();
        var ends = starts.Select((a, i) => Given.Skip(12).Where(b => b.Color != a.Color).ElementAt(i % 6)).ToArray();
        var prompts = starts.Select(s => s.Caption).ToArray();

        var connected = run.Generator.Connect(prompts, Frames, Size, Size, seed: 9, starts.Select(s => s.Clip).ToArray(), ends.Select(s => s.Clip).ToArray());
        var plain = run.Generator.Generate(prompts, Frames, Size, Size, seed: 9);

        var first = Measure(connected.Select(FirstFrame));
        var last = Measure(connected.Select(LastFrame));
        var startFrames = Measure(starts.Select(s => FirstFrame(s.Clip)));
        var endFrames = Measure(ends.Select(s => LastFrame(s.Clip)));
        var startColor = first.Where((m, i) => m.Color == starts[i].Color).Count();
        var endColor = last.Where((m, i) => m.Color == ends[i].Color).Count();
        var startPlace = MeanDistance(first.Select(m => m.FirstCentroid), startFrames.Select(m => m.FirstCentroid));
        var endPlace = MeanDistance(last.Select(m => m.FirstCentroid), endFrames.Select(m => m.FirstCentroid));
        var plainPlace = MeanDistance(Measure(plain.Select(FirstFrame)).Select(m => m.FirstCentroid), startFrames.Select(m => m.FirstCentroid));
        output.WriteLine($"connect: first frame in the first clip's colour {startColor}/12, {startPlace:F1} px from its shape; last frame in the second clip's colour {endColor}/12, {endPlace:F1} px from its shape (a plain sample's first frame: {plainPlace:F1} px)");
        startColor.Should().BeGreaterThanOrEqualTo(10, "the first frame has the first clip's colour");
        endColor.Should().BeGreaterThanOrEqualTo(10, "the last frame has the second clip's colour");
        startPlace.Should().BeLessThan(0.5 * plainPlace, "the first frame shows the first clip's shape where it is");
        endPlace.Should().BeLessThan(0.5 * plainPlace, "the last frame shows the second clip's shape where it is");
    }

    [Fact]
    public void A_loop_ends_close_to_where_it_starts()
    {
        var captions = Given.Take(12).Select(s => s.Caption).ToArray();
        var loops = run.Generator.Loop(captions, Frames, Size, Size, seed: 7);
        var plain = run.Generator.Generate(captions, Frames, Size, Size, seed: 7);

        var colored = Measure(loops).Where((m, i) => m.Color == Given[i].Color).Count();
        var loopGaps = loops.Select(PixelDistance.FirstToLast).ToArray();
        var plainGaps = plain.Select(PixelDistance.FirstToLast).ToArray();
        output.WriteLine($"loop: in the caption's colour {colored}/12; first to last frame {loopGaps.Average():F2} (plain: {plainGaps.Average():F2}) mean absolute difference, nearer in {loopGaps.Zip(plainGaps).Count(p => p.First < p.Second)}/12");
        colored.Should().BeGreaterThanOrEqualTo(10, "a loop still shows the prompt (an empty video would trivially end where it starts)");
        loopGaps.Zip(plainGaps).Count(p => p.First < p.Second).Should().BeGreaterThanOrEqualTo(10, "a loop's last frame is nearer its first than a plain sample's");
        loopGaps.Average().Should().BeLessThan(0.5 * plainGaps.Average());
    }

    private static MovingShapesSample[] UnseenClips(int count)
    {
        var generator = new MovingShapesGenerator(TrainedShapesRun.Shapes, seed: 77);
        return Enumerable.Range(0, count).Select(i => generator.Generate(i)).ToArray();
    }

    private static VideoClip FirstFrame(VideoClip clip) => clip.Slice(0, 1);

    private static VideoClip LastFrame(VideoClip clip) => clip.Slice(clip.Frames - 1, 1);

    private static ClipMeasurement Measure(VideoClip clip) => ClipMeasurements.Default.Measure(clip, TrainedShapesRun.Palette);

    private static ClipMeasurement[] Measure(IEnumerable<VideoClip> clips) => clips.Select(Measure).ToArray();

    // How far (pixels) the first frame's centroid lies from a row; no centroid (no foreground) counts as the frame's side.
    // Mean distance in pixels between paired centroids; a missing centroid (no foreground) counts as the frame's side.
    private static double MeanDistance(IEnumerable<(double X, double Y)?> a, IEnumerable<(double X, double Y)?> b) =>
        a.Zip(b).Average(p => p.First is { } u && p.Second is { } v ? Math.Sqrt(((u.X - v.X) * (u.X - v.X)) + ((u.Y - v.Y) * (u.Y - v.Y))) : Size);
}
