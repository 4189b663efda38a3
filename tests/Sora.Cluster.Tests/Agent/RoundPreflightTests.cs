using Sora.Cluster.Agent;
using Sora.Cluster.Protocol;
using Sora.Distributed.Configuration;

namespace Sora.Cluster.Tests.Agent;

/// <summary>What a node checks before it starts a round's workers: the store's round marker (the shared-directory proof) and a local dataset.</summary>
public sealed class RoundPreflightTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sora-preflight-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void The_marker_passes_when_this_node_reads_the_coordinators_nonce_and_a_blob_store_has_none()
    {
        var marker = new StoreMarker("/store/control/round-4.nonce", "abc");
        RoundPreflight.CheckMarker(marker, "n1", _ => "abc").Should().BeNull();
        RoundPreflight.CheckMarker(marker, "n1", _ => "abc\n").Should().BeNull();
        RoundPreflight.CheckMarker(null, "n1", _ => throw new InvalidOperationException("a blob store has nothing to read")).Should().BeNull();
    }

    [Theory]
    [InlineData(null, "is missing on this node")]
    [InlineData("def", "holds another nonce")]
    public void A_marker_missing_or_different_fails_naming_the_node_the_path_and_the_fix(string? found, string what)
    {
        var reason = RoundPreflight.CheckMarker(new StoreMarker("/store/control/round-4.nonce", "abc"), "n1", _ => found);
        reason.Should().Contain("node 'n1' does not share the job's store").And.Contain("/store/control/round-4.nonce").And.Contain(what)
            .And.Contain("checkpoint.store").And.Contain("az://CONTAINER/PREFIX").And.Contain("shared volume at the same path on every node");
    }

    [Fact]
    public void A_local_dataset_must_exist_on_the_node_unless_it_is_generated_or_in_blob_storage()
    {
        var missing = Path.Combine(_directory, "clips");
        RoundPreflight.CheckData(new DataConfig { Source = DataSource.Parquet, Path = missing }, "n1", _ => false)
            .Should().Contain("node 'n1'").And.Contain(missing).And.Contain("data.generate is false");
        RoundPreflight.CheckData(new DataConfig { Source = DataSource.Parquet, Path = missing }, "n1", p => p == missing).Should().BeNull();
        RoundPreflight.CheckData(new DataConfig { Source = DataSource.Parquet, Path = missing, Generate = true }, "n1", _ => false).Should().BeNull();
        RoundPreflight.CheckData(new DataConfig { Source = DataSource.Parquet, Path = "az://clips/train" }, "n1", _ => false).Should().BeNull();
        RoundPreflight.CheckData(new DataConfig(), "n1", _ => false).Should().BeNull("synthetic data needs no files");
    }

    [Fact]
    public void A_round_that_passes_gets_its_job_file_and_a_job_file_that_does_not_read_is_refused()
    {
        var start = new StartRound(2, [new RankAssignment(0, 0)], 1, "h", 1, "name: tiny\noutput: run\n", "tiny", [], null);
        var (job, file) = RoundPreflight.Prepare(start, "n1", Path.Combine(_directory, "work"));
        File.ReadAllText(file).Should().Be(start.JobYaml);
        job.Name.Should().Be("tiny");

        FluentActions.Invoking(() => RoundPreflight.Prepare(start with { JobYaml = "name: tiny\ntrain:\n  steps: many\n" }, "n1", _directory))
            .Should().Throw<RoundCheckException>().WithMessage("node 'n1': the job file does not read:*steps*");
    }
}
