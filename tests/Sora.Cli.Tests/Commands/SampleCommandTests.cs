using Sora.Cli.Commands;
using static Sora.Cli.Tests.Commands.CliRun;

namespace Sora.Cli.Tests.Commands;

/// <summary>
/// <c>sora sample</c>'s modes refuse options that do not fit them, naming the option and what is allowed, before any run
/// is loaded (the run here does not exist). Sampling in each mode is in <see cref="SampleAndEvalCommandTests"/>.
/// </summary>
[Collection(nameof(ConsoleOutput))]
public sealed class SampleCommandTests
{
    private static readonly string Run = Path.Combine(Path.GetTempPath(), "sora-no-such-run");

    public static TheoryData<string[], string[]> Refused => new()
    {
        { ["--mode", "edit"], ["--mode edit", "give --given too"] },
        { ["--mode", "connect", "--given", "a.mp4"], ["--mode connect needs --given-end"] },
        { ["--given", "a.mp4", "--given-end", "b.mp4"], ["--given-end", "--mode image-to-video", "allowed: --mode connect"] },
        { ["--mode", "loop", "--given-end", "b.mp4"], ["--given-end", "--mode loop", "allowed: --mode connect"] },
        { ["--given-end", "b.mp4"], ["--given-end", "plain sampling", "allowed: --mode connect"] },
        { ["--mode", "edit", "--given", "a.mp4", "--strength", "0"], ["--strength: 0 is outside the allowed (0, 1]"] },
        { ["--mode", "edit", "--given", "a.mp4", "--strength", "1.5"], ["--strength: 1.5 is outside the allowed (0, 1]"] },
        { ["--mode", "connect", "--given", "a.mp4", "--given-end", "b.mp4", "--strength", "0.5"], ["--strength", "--mode connect", "allowed: --mode edit"] },
        { ["--mode", "loop", "--given", "a.mp4"], ["--mode loop generates from the prompt alone: drop --given"] },
        { ["--mode", "blend", "--given", "a.mp4"], ["blend", "edit", "connect", "loop"] },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Options_that_do_not_fit_the_mode_are_named(string[] options, string[] expected)
    {
        var (exit, text) = RunAsync(["sample", "--run", Run, "--prompt", "a red circle moves right on a black background", .. options]);
        exit.Should().NotBe(0);
        foreach (var part in expected)
        {
            text.Should().Contain(part);
        }
    }

    [Theory]
    [InlineData("connect", 8, 8, true)]
    [InlineData("loop", 8, 8, true)]
    [InlineData("extend-forward", 5, 8, true)]
    [InlineData("image-to-video", 8, 8, true)]
    [InlineData("connect", 16, 8, false)]
    [InlineData("loop", 8, 2, false)]
    [InlineData("edit", 8, 8, false)]
    [InlineData(null, 8, 8, false)]
    public void Modes_that_keep_latent_frames_need_two_of_them_and_say_which_frames_would_do(string? mode, int frames, int perLatentFrame, bool refused)
    {
        var act = () => SampleCommand.RequireLatentFrames(mode, frames, perLatentFrame);
        if (refused)
        {
            act.Should().Throw<ArgumentException>().WithMessage($"*--frames {frames} makes only one*--frames {2 * perLatentFrame} or more*");
        }
        else
        {
            act.Should().NotThrow();
        }
    }
}
