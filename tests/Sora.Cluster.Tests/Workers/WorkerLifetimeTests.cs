using Sora.Cluster.Workers;
using Sora.Data.Parquet;
using Sora.Distributed.Configuration;

namespace Sora.Cluster.Tests.Workers;

/// <summary>Which worker failures would happen again on every restart (exit 78), and when a process counts as a worker under an agent.</summary>
public sealed class WorkerLifetimeTests
{
    public static TheoryData<Exception, bool> Failures() => new()
    {
        { new ConfigException("train.steps: expected an integer"), true },
        { new FileNotFoundException("no Parquet shard or directory at '/data'"), true },
        { new DirectoryNotFoundException("/data"), true },
        { new InvalidDataException("shard 3 is truncated"), true },
        { new ArgumentException("--round must be >= 0"), true },
        { new IOException("connection reset"), false },
        { new InvalidOperationException("collective timed out"), false },
        { new TimeoutException("rendezvous timed out"), false },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Configuration_and_data_errors_would_fail_again_and_others_may_not(Exception error, bool deterministic) =>
        WorkerLifetime.IsDeterministic(error).Should().Be(deterministic);

    [Fact]
    public void A_shard_that_is_not_parquet_would_fail_again() =>
        WorkerLifetime.IsDeterministic(new ParquetFormatException("x.parquet: not a Parquet file")).Should().BeTrue();

    [Fact]
    public void A_process_is_a_worker_only_when_its_agent_named_itself()
    {
        WorkerLifetime.Parent(_ => null).Should().BeNull();
        WorkerLifetime.Parent(_ => "not a pid").Should().BeNull();
        WorkerLifetime.Parent(name => name == WorkerLifetime.ParentPidVariable ? "4242" : null).Should().Be(4242);
    }

    [Fact]
    public void Outside_an_agent_every_failure_exits_1_and_says_nothing_on_stdout()
    {
        using var output = new StringWriter();
        WorkerLifetime.ExitCodeFor(new ConfigException("bad key"), output).Should().Be(1);
        output.ToString().Should().BeEmpty();
    }
}
