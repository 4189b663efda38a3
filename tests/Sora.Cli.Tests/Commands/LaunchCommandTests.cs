using System.Net;
using System.Net.Sockets;
using Sora.Cli.Launch;
using static Sora.Cli.Tests.Commands.CliRun;
using static Sora.Tests.Common.SoraProcess;

namespace Sora.Cli.Tests.Commands;

/// <summary><c>sora launch</c> and <c>sora coordinator</c> refuse bad input before anything starts or is written, and the job token file is private.</summary>
public sealed class LaunchCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sora-launch-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_worker_count_that_does_not_divide_the_batch_is_refused_naming_the_key()
    {
        var job = WriteTinyJob(_directory, ditSteps: 4);
        var (exit, output) = RunAsync("launch", job, "--nproc-per-node", "3");
        exit.Should().Be(1);
        OneLine(output).Should().Contain("vae.train.batch_size (4) must be a multiple of the world size (3)");
    }

    [Fact]
    public void An_endpoint_that_cannot_be_bound_is_refused_naming_it()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var job = WriteTinyJob(_directory, ditSteps: 4);
        var (exit, output) = RunAsync("coordinator", job, "--listen", $"127.0.0.1:{port}", "--api-listen", "127.0.0.1:0");
        exit.Should().Be(1);
        OneLine(output).Should().Contain($"cannot bind Akka remoting (--listen/--rdzv-endpoint) on 127.0.0.1:{port}");
    }

    [Fact]
    public void An_nnodes_range_that_is_not_one_is_refused()
    {
        var job = WriteTinyJob(_directory, ditSteps: 4);
        var (exit, output) = RunAsync("launch", job, "--nnodes", "3:2");
        exit.Should().Be(1);
        OneLine(output).Should().Contain("--nnodes: expected N or MIN:MAX with 1 <= MIN <= MAX (got '3:2')");
    }

    [Fact]
    public void The_agent_takes_its_coordinator_timeout_from_the_command_line_and_checks_it()
    {
        var (exit, output) = RunAsync("agent", "--coordinator", "127.0.0.1:1", "--coordinator-timeout", "0");
        exit.Should().Be(1);
        OneLine(output).Should().Contain("--coordinator-timeout must be > 0 seconds (got 0)");
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void A_new_job_token_is_readable_by_its_owner_only()
    {
        var file = Path.Combine(_directory, "token");
        File.WriteAllText(file, "an older token, readable by anyone");
        var token = ClusterJob.CreateToken(file);
        token.Should().MatchRegex("^[0-9a-f]{64}$");
        File.ReadAllText(file).Trim().Should().Be(token);
        File.GetUnixFileMode(file).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        ClusterJob.CreateToken(file).Should().NotBe(token, "every launch gets its own token");
    }

    private static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
}
