using Sora.Cluster.Workers;
using Sora.Data.Storage;

namespace Sora.Cluster.Tests.Workers;

public sealed class WorkerCommandLineTests
{
    private static readonly WorkerPlacement Placement = new("/w/job.yaml", Rank: 5, LocalRank: 1, WorldSize: 8, StoreHost: "10.0.0.1", StorePort: 29401, Round: 3, Host: "10.0.0.7", Threads: 4);

    [Fact]
    public void A_worker_starts_as_sora_train_with_its_placement_then_the_jobs_arguments()
    {
        var info = WorkerCommandLine.StartInfo(["dotnet", "exec", "sora.dll"], Placement, ["--parallel", "fsdp"]);
        info.FileName.Should().Be("dotnet");
        info.ArgumentList.Should().Equal(
            "exec", "sora.dll", "train", "/w/job.yaml", "--rank", "5", "--world-size", "8", "--master-addr", "10.0.0.1", "--master-port", "29401",
            "--round", "3", "--host", "10.0.0.7", "--threads", "4", "--agent", "--parallel", "fsdp");
    }

    [Fact]
    public void A_worker_gets_its_thread_share_and_its_ranks_and_round_in_the_environment()
    {
        var info = WorkerCommandLine.StartInfo(["sora"], Placement, []);
        info.Environment.Should().Contain(new Dictionary<string, string?>
        {
            ["OPENBLAS_NUM_THREADS"] = "4",
            ["OMP_NUM_THREADS"] = "4",
            ["OMP_WAIT_POLICY"] = "PASSIVE",
            ["SORA_RANK"] = "5",
            ["SORA_LOCAL_RANK"] = "1",
            ["SORA_WORLD_SIZE"] = "8",
            ["SORA_ROUND"] = "3",
        });
    }

    [Fact]
    public void The_jobs_arguments_carry_checkpoints_only_when_there_are_some()
    {
        WorkerCommandLine.JobArguments(new WorkerJobOptions("ddp", TimeSpan.FromSeconds(30.5), null)).Should().Equal("--parallel", "ddp", "--timeout", "30.5");
        var blob = new WorkerCheckpoints(10, "az://ckpt/job", AzureCredentialKind.ConnectionString, KeepLast: 3, KeepEvery: 100) { ConnectionString = "UseDevelopmentStorage=true", Container = "c" };
        WorkerCommandLine.JobArguments(new WorkerJobOptions("fsdp", TimeSpan.FromSeconds(300), blob)).Should().Equal(
            "--parallel", "fsdp", "--timeout", "300", "--checkpoint-every", "10", "--checkpoint-store", "az://ckpt/job", "--checkpoint-credential", "connection-string",
            "--keep-last", "3", "--keep-every", "100", "--checkpoint-connection-string", "UseDevelopmentStorage=true", "--checkpoint-container", "c");
        WorkerCommandLine.Resume("latest").Should().Equal("--resume", "latest");
    }
}
