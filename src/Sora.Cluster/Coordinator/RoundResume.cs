using System.Globalization;

namespace Sora.Cluster.Coordinator;

/// <summary>Where a round's workers resume from: the <c>--resume</c> they get (null: none), its step, and the words for the job's events.</summary>
/// <param name="Argument">"latest", a step, or null to start from scratch.</param>
/// <param name="Step">The step resumed from (0: none).</param>
/// <param name="Description">"from scratch" or "resuming from checkpoint step N".</param>
public sealed record RoundResume(string? Argument, long Step, string Description)
{
    /// <summary>
    /// The rule: a round resumes from the last committed checkpoint, when there is one; only the first round of a launch that
    /// asked (<see cref="JobSpec.Resume"/>) resumes as asked instead.
    /// </summary>
    /// <param name="asked">What the launch asked (<see cref="JobSpec.Resume"/>).</param>
    /// <param name="firstRound">Whether this is the launch's first round.</param>
    /// <param name="committed">The last committed checkpoint (null: none).</param>
    public static RoundResume For(string? asked, bool firstRound, CommittedCheckpoint? committed)
    {
        if (firstRound && asked is not null && asked != "latest")
        {
            return asked == JobSpec.StartFresh ? Scratch
                : long.TryParse(asked, NumberStyles.None, CultureInfo.InvariantCulture, out var step) ? new RoundResume(asked, step, $"resuming from checkpoint step {step} (as asked)")
                : throw new ArgumentException($"resume: expected latest, a step or {JobSpec.StartFresh} (got '{asked}')", nameof(asked));
        }

        return committed is { Step: > 0 } c ? new RoundResume("latest", c.Step, $"resuming from checkpoint step {c.Step}") : Scratch;
    }

    private static RoundResume Scratch { get; } = new(null, 0, "from scratch");
}
