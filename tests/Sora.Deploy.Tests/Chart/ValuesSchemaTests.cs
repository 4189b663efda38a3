using Sora.Deploy.Tests.Support;

namespace Sora.Deploy.Tests.Chart;

/// <summary>values.schema.json rejects bad values before anything renders, and helm's message names the key.</summary>
public class ValuesSchemaTests
{
    [Theory]
    [InlineData("nnodes:\n  min: -1\n  max: 2\n", "/nnodes/min")]
    [InlineData("nnodes:\n  min: 1\n  max: 0\n", "/nnodes/max")]
    [InlineData("nodes:\n  gpusPerNode: -2\n", "/nodes/gpusPerNode")]
    public void A_negative_or_zero_node_count_is_rejected(string values, string key)
    {
        var result = HelmChart.Template([], values);
        result.ExitCode.Should().NotBe(0, result.Output);
        result.StandardError.Should().Contain(key).And.Contain("minimum");
    }

    [Theory]
    [InlineData("nodes:\n  gpuPerNode: 8\n", "/nodes", "gpuPerNode")]
    [InlineData("replicas: 3\n", "", "replicas")]
    [InlineData("storage:\n  workloadIdentity:\n    clientID: abc\n", "/storage/workloadIdentity", "clientID")]
    public void An_unknown_key_is_rejected(string values, string at, string key)
    {
        var result = HelmChart.Template([], values);
        result.ExitCode.Should().NotBe(0, result.Output);
        result.StandardError.Should().Contain($"at '{at}'").And.Contain($"'{key}' not allowed");
    }

    [Theory]
    [InlineData("nodes:\n  gpusPerNode: 1.5\n", "number")]
    [InlineData("nodes:\n  gpusPerNode: eight\n", "string")]
    [InlineData("nodes:\n  gpusPerNode: \"8\"\n", "string")]
    public void A_GPU_count_that_is_not_an_integer_is_rejected(string values, string got)
    {
        var result = HelmChart.Template([], values);
        result.ExitCode.Should().NotBe(0, result.Output);
        result.StandardError.Should().Contain("/nodes/gpusPerNode").And.Contain($"got {got}, want integer");
    }

    [Theory]
    [InlineData("nnodes:\n  min: 3\n  max: 2\n", "nnodes.min (3) must not exceed nnodes.max (2)")]
    [InlineData("storage:\n  existingSecret: s\n  workloadIdentity:\n    enabled: true\n    clientId: c\n", "either storage.existingSecret or storage.workloadIdentity.enabled")]
    [InlineData("storage:\n  workloadIdentity:\n    enabled: true\n", "storage.workloadIdentity.clientId: required")]
    [InlineData("storage:\n  existingSecret: s\n  connectionStringKey: \"\"\n", "neither storage.connectionStringKey nor storage.accountKeyKey")]
    [InlineData("job:\n  config: \"\"\n", "set job.config")]
    [InlineData("storage:\n  existingSecret: s\n", "set one of storage.emulator.enabled, storage.existingSecret and storage.workloadIdentity.enabled")]
    public void Combinations_the_schema_cannot_express_fail_the_render_naming_the_values(string values, string message)
    {
        var result = HelmChart.Template([], values);
        result.ExitCode.Should().NotBe(0, result.Output);
        result.StandardError.Should().Contain(message);
    }

    [Fact]
    public void Good_values_that_change_every_section_render()
    {
        // The schema is strict, not wrong: a legal value in each section passes.
        var result = HelmChart.Template([], """
            image: {repository: registry.example/sora, tag: "1.2", pullPolicy: Always}
            imagePullSecrets: [{name: pull}]
            clusterDomain: k8s.internal
            job: {existingConfigMap: my-job, configKey: train.yaml}
            nnodes: {min: 1, max: 3}
            maxRestarts: 0
            hangTimeout: 120
            apiToken: {existingSecret: my-token, key: api}
            storage: {existingSecret: st, connectionStringKey: "", accountKeyKey: key, emulator: {enabled: false}, sharedVolume: {claimName: rwx, mountPath: /mnt/store}}
            serviceAccount: {create: false, name: trainer}
            coordinator: {serviceType: LoadBalancer, extraArgs: [--verbose], extraEnv: [{name: A, value: b}]}
            nodes: {gpusPerNode: 2, shmSize: 16Gi, backoffLimit: 0, nodeSelector: {pool: gpu}}
            monitoring: {serviceMonitor: {enabled: true, interval: 30s}, grafanaDashboard: {enabled: true, labelValue: "yes"}}
            """);
        result.ExitCode.Should().Be(0, result.Output);
    }

    [Fact]
    public void Several_nodes_with_no_store_every_pod_reaches_are_refused_naming_the_keys()
    {
        var result = HelmChart.Template([], "storage:\n  emulator:\n    enabled: false\n");
        result.ExitCode.Should().NotBe(0, result.Output);
        // helm prints one line per way out: one node, or one of the four stores.
        result.StandardError.Should().Contain("at '/nnodes/max': maximum: got 2, want 1")
            .And.Contain("at '/storage/emulator/enabled': value must be true")
            .And.Contain("at '/storage/existingSecret'")
            .And.Contain("at '/storage/workloadIdentity/enabled': value must be true")
            .And.Contain("at '/storage/sharedVolume/claimName'");

        var oneNode = HelmChart.Template([], "nnodes: {min: 1, max: 1}\nstorage:\n  emulator:\n    enabled: false\njob:\n  config: |\n    name: local\n    model: {preset: tiny}\n");
        oneNode.ExitCode.Should().Be(0, oneNode.Output);
    }

    [Theory]
    [InlineData("storage: {emulator: {enabled: true}}")]
    [InlineData("storage: {emulator: {enabled: false}, existingSecret: sora-storage}")]
    [InlineData("storage: {emulator: {enabled: false}, workloadIdentity: {enabled: true, clientId: c}}\njob: {config: \"name: t\\ncheckpoint: {store: 'https://acct.blob.core.windows.net/sora/t'}\\n\"}")]
    [InlineData("storage: {emulator: {enabled: false}, sharedVolume: {claimName: rwx}}\njob: {config: \"name: t\\ncheckpoint: {store: /store/t}\\n\"}")]
    public void Each_store_every_pod_reaches_runs_a_job_on_several_nodes(string values)
    {
        var result = HelmChart.Template([], "nnodes: {min: 2, max: 3}\n" + values + "\n");
        result.ExitCode.Should().Be(0, result.Output);
    }

    [Theory]
    [InlineData("checkpoint: {store: ckpt}", "", "job.config: checkpoint.store 'ckpt' is a directory, which each of the 2 nodes (nnodes.max) would see on its own disk")]
    [InlineData("model: {preset: tiny}", "", "job.config: checkpoint.store is not set, so each of the 2 nodes")]
    [InlineData("checkpoint: {store: /data/t}", "storage: {sharedVolume: {claimName: rwx}}", "checkpoint.store '/data/t' is not under storage.sharedVolume.mountPath (/store)")]
    [InlineData("checkpoint: {store: az://sora/t}", "storage: {emulator: {enabled: false}, workloadIdentity: {enabled: true, clientId: c}}", "checkpoint.store 'az://sora/t' takes its account from AZURE_STORAGE_CONNECTION_STRING")]
    [InlineData("checkpoint: {store: 'https://acct.blob.core.windows.net/sora/t'}\ndata: {source: parquet, path: az://data/set}", "storage: {emulator: {enabled: false}, existingSecret: s, connectionStringKey: '', accountKeyKey: key}", "data.path 'az://data/set' takes its account")]
    [InlineData("checkpoint: {store: 'https://acct.blob.core.windows.net/sora/t?sv=1&sig=SECRET'}", "", "checkpoint.store 'https://acct.blob.core.windows.net/sora/t' is a URL, but storage.emulator.enabled serves")]
    public void A_job_yaml_whose_store_the_pods_cannot_reach_fails_the_render_naming_the_keys(string jobYaml, string values, string message)
    {
        var config = "name: t\n" + jobYaml + "\n";
        var result = HelmChart.Template([], values + "\njob:\n  config: |\n" + string.Concat(config.Split('\n').Select(line => "    " + line + "\n")));
        result.ExitCode.Should().NotBe(0, result.Output);
        result.StandardError.Should().Contain(message).And.NotContain("SECRET", "a SAS is never echoed");
    }
}
