using System.CommandLine;
using Sora.Distributed.Configuration;
using Sora.Distributed.Devices;

namespace Sora.Cli.Commands;

/// <summary><c>--device</c> on the commands that run a model: auto, cpu or cuda, in place of the job's <c>device</c> key.</summary>
internal static class DeviceOption
{
    public static Option<DeviceSetting?> Create() => new("--device")
    {
        Description = "auto, cpu or cuda (default: the job's device key): auto takes a CUDA device when the shim was built with CUDA and one is visible, else the CPU.",
    };

    /// <summary>The setting the command line gave, else the job's.</summary>
    public static DeviceSetting Setting(ParseResult parse, Option<DeviceSetting?> option, JobConfig job) => parse.GetValue(option) ?? job.Device;

    /// <summary>Where a single process runs (local rank 0), made current; a device that cannot be used is refused here.</summary>
    public static DevicePlacement Place(ParseResult parse, Option<DeviceSetting?> option, JobConfig job) =>
        DevicePlacement.ForThisProcess(Setting(parse, option, job), localRank: 0).Activate();
}
