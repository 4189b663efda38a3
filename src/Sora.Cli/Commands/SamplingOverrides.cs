using System.CommandLine;
using Sora.Distributed.Configuration;
using Sora.Model.Sampling;

namespace Sora.Cli.Commands;

/// <summary><c>--steps</c> and <c>--guidance</c>: the sampler's settings for one command, the job's where not given.</summary>
internal sealed class SamplingOverrides
{
    public Option<int?> Steps { get; } = new("--steps") { Description = "Euler steps (default: the job's)." };

    public Option<double?> Guidance { get; } = new("--guidance") { Description = "Classifier-free guidance scale (default: the job's)." };

    public IEnumerable<Option> Options => [Steps, Guidance];

    /// <summary>The job's sampling settings with what the command line gave in their place.</summary>
    public SamplingOptions Apply(ParseResult parse, JobConfig job) => job.Sampling.Options with
    {
        Steps = parse.GetValue(Steps) ?? job.Sampling.Options.Steps,
        GuidanceScale = parse.GetValue(Guidance) ?? job.Sampling.Options.GuidanceScale,
    };
}
