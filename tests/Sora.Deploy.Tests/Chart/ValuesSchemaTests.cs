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
            storage: {existingSecret: st, connectionStringKey: "", accountKeyKey: key}
            serviceAccount: {create: false, name: trainer}
            coordinator: {serviceType: LoadBalancer, extraArgs: [--verbose], extraEnv: [{name: A, value: b}]}
            nodes: {gpusPerNode: 2, shmSize: 16Gi, backoffLimit: 0, nodeSelector: {pool: gpu}}
            monitoring: {serviceMonitor: {enabled: true, interval: 30s}, grafanaDashboard: {enabled: true, labelValue: "yes"}}
            """);
        result.ExitCode.Should().Be(0, result.Output);
    }
}
