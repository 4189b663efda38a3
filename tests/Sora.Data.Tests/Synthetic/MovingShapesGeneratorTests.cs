using System.Security.Cryptography;
using System.Text;
using Sora.Data.Synthetic;
using Sora.Data.Video;
using Sora.Torch;

namespace Sora.Data.Tests.Synthetic;

public class MovingShapesGeneratorTests
{
    private static readonly MovingShapesGenerator Generator = new(MovingShapesOptions.Default, seed: 2024);
    private static readonly MovingShapesSample[] Samples = Enumerable.Range(0, 300).Select(i => Generator.Generate(i)).ToArray();

    [Fact]
    public void The_same_seed_and_index_give_identical_bytes()
    {
        var again = new MovingShapesGenerator(MovingShapesOptions.Default, seed: 2024);
        foreach (var index in new long[] { 0, 1, 17, 299, 1_000_000_007 })
        {
            var a = Generator.Generate(index);
            var b = again.Generate(index);
            b.Clip.ContentEquals(a.Clip).Should().BeTrue();
            b.Should().BeEquivalentTo(a, o => o.Excluding(s => s.Clip));
        }
    }

    [Fact]
    public void Other_indices_and_seeds_give_other_samples()
    {
        Samples[0].Clip.ContentEquals(Samples[1].Clip).Should().BeFalse();
        Samples.Select(s => Hash(s)).Distinct().Should().HaveCount(Samples.Length);
        var otherSeed = new MovingShapesGenerator(MovingShapesOptions.Default, seed: 2025);
        Enumerable.Range(0, 20).Count(i => otherSeed.Generate(i).Clip.ContentEquals(Samples[i].Clip)).Should().Be(0);
    }

    [Fact]
    public void The_bytes_are_pinned_so_every_machine_gets_the_same_dataset()
    {
        // Integer-only PRNG and rasterizing: this digest must not change across machines, OSes or runtimes.
        // If it changes on purpose (a new drawing rule), it changes the dataset: update it knowingly.
        using var sha = SHA256.Create();
        foreach (var sample in Samples.Take(40))
        {
            sha.TransformBlock(sample.Clip.Pixels.ToArray(), 0, sample.Clip.Pixels.Length, null, 0);
            var caption = Encoding.UTF8.GetBytes(sample.Caption);
            sha.TransformBlock(caption, 0, caption.Length, null, 0);
        }

        sha.TransformFinalBlock([], 0, 0);
        Convert.ToHexStringLower(sha.Hash!).Should().Be("0b1d035e98cb5428e4119298cc971d6948314a2ac6f1b0e2652bda6a2573e5a3");
    }

    [Fact]
    public void Every_option_value_appears_in_a_few_hundred_samples()
    {
        var options = MovingShapesOptions.Default;
        Samples.Select(s => s.Color).Distinct().Should().BeEquivalentTo(options.Colors.Select(c => c.Name));
        Samples.Select(s => s.Background).Distinct().Should().BeEquivalentTo(options.Backgrounds.Select(c => c.Name));
        Samples.Select(s => s.Shape).Distinct().Should().BeEquivalentTo(options.Shapes);
        Samples.Where(s => s.Frames > 1).Select(s => s.Direction).Distinct().Should().BeEquivalentTo(options.Directions);
        Samples.Select(s => s.Frames).Distinct().Should().BeEquivalentTo(options.Lengths);
        Samples.Select(s => new FrameSize(s.Height, s.Width)).Distinct().Should().BeEquivalentTo(options.Sizes);
    }

    [Fact]
    public void Frame_sizes_are_height_by_width()
    {
        var generator = new MovingShapesGenerator(MovingShapesOptions.Default with { Sizes = [new(48, 32)] }, seed: 1);
        var sample = generator.Generate(0);
        (sample.Height, sample.Width).Should().Be((48, 32));
        using var scope = Tensor.NewDisposeScope();
        sample.Clip.ToTensor().Shape.Should().Equal(3, sample.Frames, 48, 32);
    }

    [Fact]
    public void The_shape_stays_wholly_inside_every_frame()
    {
        foreach (var sample in Samples)
        {
            var half = sample.ShapeSize / 2;
            foreach (var (x, y) in new[] { sample.Start, sample.End })
            {
                x.Should().BeInRange(half, sample.Width - half, $"sample {sample.Index}");
                y.Should().BeInRange(half, sample.Height - half, $"sample {sample.Index}");
            }

            // A shape cut by the frame edge would cover less area in some frames.
            var areas = Enumerable.Range(0, sample.Frames).Select(t => CoveredArea(sample, t)).ToArray();
            areas.Min().Should().BeGreaterThan(0.9 * areas.Max(), $"sample {sample.Index} ({sample.Caption})");
            areas.Max().Should().BeLessThanOrEqualTo((sample.ShapeSize + 1) * (sample.ShapeSize + 1), "no more than the bounding box (edge pixels are rounded to whole bytes)");
        }
    }

    [Fact]
    public void Videos_move_a_clearly_visible_distance_the_way_the_caption_says()
    {
        var options = MovingShapesOptions.Default;
        foreach (var sample in Samples.Where(s => s.Frames > 1))
        {
            double dx = sample.End.X - sample.Start.X, dy = sample.End.Y - sample.Start.Y;
            var (along, across, side) = sample.Direction switch
            {
                MotionDirection.Right => (dx, dy, sample.Width),
                MotionDirection.Left => (-dx, dy, sample.Width),
                MotionDirection.Down => (dy, dx, sample.Height),
                MotionDirection.Up => (-dy, dx, sample.Height),
                _ => throw new InvalidOperationException($"sample {sample.Index} has no direction"),
            };
            along.Should().BeGreaterThanOrEqualTo(options.MinTravelFraction * side, $"sample {sample.Index}");
            across.Should().Be(0);
            sample.Speed.Should().BeApproximately(along / (sample.Frames - 1), 1e-9);
        }
    }

    [Fact]
    public void Captions_name_the_content()
    {
        foreach (var sample in Samples)
        {
            sample.Caption.Should().Be(Captions.Describe(sample.Color, sample.Shape, sample.Direction, sample.Background));
            sample.Caption.Should().Contain(sample.Color).And.Contain(sample.Shape.ToString().ToLowerInvariant()).And.EndWith($"{sample.Background} background");
            if (sample.Frames == 1)
            {
                sample.Direction.Should().Be(MotionDirection.None);
                sample.Speed.Should().Be(0);
                sample.Caption.Should().NotContain("moves");
            }
            else
            {
                sample.Caption.Should().Contain($"moves {sample.Direction.ToString().ToLowerInvariant()}");
            }

            sample.ColorRgb.Should().Be(MovingShapesOptions.Default.ForegroundPalette[sample.Color]);
        }
    }

    [Fact]
    public void A_subset_of_options_restricts_the_samples()
    {
        var small = new MovingShapesGenerator(MovingShapesOptions.SmallCpu, seed: 3);
        var samples = Enumerable.Range(0, 100).Select(i => small.Generate(i)).ToArray();
        samples.Should().OnlyContain(s => s.Height == 32 && s.Width == 32 && (s.Frames == 1 || s.Frames == 8));
        samples.Select(s => s.Frames).Distinct().Should().HaveCount(2);
    }

    [Fact]
    public void Eval_prompts_are_72_distinct_ones_with_every_shape_colour_background_and_direction_equally_often()
    {
        var prompts = Generator.EvalPrompts();

        prompts.Should().HaveCount(72);
        prompts.Select(p => p.Caption).Should().OnlyHaveUniqueItems();
        prompts.GroupBy(p => p.Shape).Select(g => g.Count()).Should().HaveCount(3).And.OnlyContain(n => n == 24);
        prompts.GroupBy(p => p.Color).Select(g => g.Count()).Should().HaveCount(6).And.OnlyContain(n => n == 12);
        prompts.GroupBy(p => p.Background).Select(g => g.Count()).Should().HaveCount(4).And.OnlyContain(n => n == 18);
        prompts.GroupBy(p => p.Direction).Select(g => g.Count()).Should().HaveCount(4).And.OnlyContain(n => n == 18);
        prompts.Should().OnlyContain(p => p.Caption == Captions.Describe(p.Color, p.Shape, p.Direction, p.Background));
        prompts.Select(p => p.Shape).Should().BeInAscendingOrder();
    }

    [Fact]
    public void Eval_prompts_are_the_same_for_a_seed_on_any_machine_and_differ_between_seeds()
    {
        var prompts = Generator.EvalPrompts().Select(p => p.Caption).ToArray();

        new MovingShapesGenerator(MovingShapesOptions.Default, seed: 2024).EvalPrompts().Select(p => p.Caption).Should().Equal(prompts);
        new MovingShapesGenerator(MovingShapesOptions.Default, seed: 2025).EvalPrompts().Select(p => p.Caption).Should().NotEqual(prompts);

        // Integer arithmetic only (SplitMix64): these are what every machine draws for seed 2024.
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', prompts)))).Should().Be("F864E93547F32FE5042BCF46F6B52ECDB11581453BE813E282397BA60C5C993C");
    }

    [Fact]
    public void Eval_prompts_keep_to_restricted_options_and_spread_an_uneven_count_within_one()
    {
        var options = MovingShapesOptions.Default with { Colors = [.. MovingShapesOptions.Default.Colors.Take(2)], Shapes = [ShapeKind.Triangle], Directions = [MotionDirection.Left, MotionDirection.Up] };
        var generator = new MovingShapesGenerator(options, seed: 5);

        var prompts = generator.EvalPrompts(10);

        prompts.Should().HaveCount(10).And.OnlyContain(p => p.Shape == ShapeKind.Triangle && (p.Color == "red" || p.Color == "green"));
        prompts.Select(p => p.Caption).Should().OnlyHaveUniqueItems();
        prompts.GroupBy(p => p.Background).Select(g => g.Count()).Should().BeEquivalentTo(new[] { 2, 2, 3, 3 });
        prompts.GroupBy(p => p.Direction).Select(g => g.Count()).Should().BeEquivalentTo(new[] { 5, 5 });

        var all = generator.EvalPrompts(40);
        all.Should().HaveCount(40, "16 distinct prompts exist, so some repeat");
        all.Select(p => p.Caption).Distinct().Should().HaveCount(16);
        generator.Invoking(g => g.EvalPrompts(0)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Negative_indices_are_rejected()
    {
        Generator.Invoking(g => g.Generate(-1)).Should().Throw<ArgumentOutOfRangeException>();
    }

    /// <summary>Pixels the shape covers in frame <paramref name="t"/>, counting anti-aliased edges fractionally.</summary>
    private static double CoveredArea(MovingShapesSample sample, int t)
    {
        var (fg, bg) = (sample.ColorRgb, sample.BackgroundRgb);
        var channel = new[] { Math.Abs(fg.R - bg.R), Math.Abs(fg.G - bg.G), Math.Abs(fg.B - bg.B) }.Select((d, c) => (d, c)).Max().c;
        int Pick(Rgb color) => channel switch { 0 => color.R, 1 => color.G, _ => color.B };
        double area = 0;
        for (var y = 0; y < sample.Height; y++)
        {
            for (var x = 0; x < sample.Width; x++)
            {
                area += (Pick(sample.Clip[t, y, x]) - Pick(bg)) / (double)(Pick(fg) - Pick(bg));
            }
        }

        return area;
    }

    private static string Hash(MovingShapesSample sample) => Convert.ToHexString(SHA256.HashData(sample.Clip.Pixels));
}
