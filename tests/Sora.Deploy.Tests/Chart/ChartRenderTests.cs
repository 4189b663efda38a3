using System.Text;
using System.Text.Json;
using Sora.Checkout;
using Sora.Deploy.Tests.Support;
using YamlDotNet.RepresentationModel;
using static Sora.Deploy.Tests.Support.RenderedManifests;

namespace Sora.Deploy.Tests.Chart;

/// <summary><c>helm template</c> for each kind of deployment, with the rendered manifests parsed and checked.</summary>
public class ChartRenderTests
{
    private const string Coordinator = "demo-sora-coordinator";
    private const string Nodes = "demo-sora-nodes";
    private const string TokenSecret = "demo-sora-token";
    private const string CoordinatorHost = "demo-sora-coordinator.training.svc.cluster.local";
    private const string TokenFile = "/var/run/secrets/sora/token";

    public static TheoryData<string> AllValues() => new(["values.yaml", .. HelmChart.ShippedValuesFiles]);

    [Fact]
    public void GPU_nodes_run_one_worker_per_GPU_and_dial_the_coordinators_service()
    {
        var rendered = HelmChart.Render(["values-gpu.yaml"]);
        var job = rendered.Single("Job", Nodes);
        var spec = job.Map("spec");
        spec.Scalar("completionMode").Should().Be("Indexed");
        spec.Scalar("completions").Should().Be("4");
        spec.Scalar("parallelism").Should().Be("4");

        var agent = Container(job);
        Strings(agent.Sequence("command")).Should().Equal("sora");
        Strings(agent.Sequence("args"))[0].Should().Be("agent");
        Flag(agent, "--coordinator").Should().Be($"{CoordinatorHost}:29400");
        Flag(agent, "--nproc-per-node").Should().Be("8");
        agent.Map("resources").Map("limits").Scalar("nvidia.com/gpu").Should().Be("8");

        // Every pod is NODES-INDEX in the headless Service's subdomain, and advertises that name.
        PodSpec(job).Scalar("subdomain").Should().Be(Nodes);
        Flag(agent, "--advertise").Should().Be($"{Nodes}-$(JOB_COMPLETION_INDEX).{Nodes}.training.svc.cluster.local");
        agent.Sequence("env").Named("JOB_COMPLETION_INDEX").Map("valueFrom").Map("fieldRef").Scalar("fieldPath")
            .Should().Be("metadata.annotations['batch.kubernetes.io/job-completion-index']");
        var headless = rendered.Single("Service", Nodes).Map("spec");
        headless.Scalar("clusterIP").Should().Be("None");
        SelectorMatches(headless.Map("selector"), job.Map("spec").Map("template").Map("metadata").Map("labels")).Should().BeTrue();

        // The job trains on the GPUs (worker r on cuda:r, NCCL), NCCL's interface comes from the values, its debug output is off.
        rendered.Single("ConfigMap", "demo-sora-job").Map("data").Scalar("job.yaml").Should().Contain("device: cuda");
        agent.Sequence("env").Named("NCCL_SOCKET_IFNAME").Scalar("value").Should().Be("eth0");
        agent.Sequence("env").HasNamed("NCCL_DEBUG").Should().BeFalse("NCCL_DEBUG is off unless asked for");

        // /dev/shm is a memory emptyDir of the values' size.
        agent.Sequence("volumeMounts").Named("/dev/shm", "mountPath").Scalar("name").Should().Be("shm");
        var shm = PodSpec(job).Sequence("volumes").Named("shm").Map("emptyDir");
        shm.Scalar("medium").Should().Be("Memory");
        shm.Scalar("sizeLimit").Should().Be("64Gi");

        // Storage credentials come from the Secret by reference.
        var connection = agent.Sequence("env").Named("AZURE_STORAGE_CONNECTION_STRING");
        connection.Get("value").Should().BeNull();
        connection.Map("valueFrom").Map("secretKeyRef").Scalar("name").Should().Be("sora-storage");
        connection.Map("valueFrom").Map("secretKeyRef").Scalar("key").Should().Be("connectionString");

        var coordinator = Container(rendered.Single("Job", Coordinator));
        Flag(coordinator, "--nnodes").Should().Be("4");
        Flag(coordinator, "--max-restarts").Should().Be("5");
        coordinator.Sequence("env").Named("AZURE_STORAGE_CONNECTION_STRING").Map("valueFrom").Map("secretKeyRef").Scalar("name").Should().Be("sora-storage");
    }

    [Fact]
    public void The_default_values_run_a_two_node_job_whose_store_is_a_blob_store_and_need_no_shared_volume()
    {
        var rendered = HelmChart.Render([]);
        rendered.Single("Job", Nodes).Map("spec").Scalar("completions").Should().Be("2");
        Flag(Container(rendered.Single("Job", Coordinator)), "--nnodes").Should().Be("2");

        // The job YAML the coordinator reads (and hands the agents) names a container and the job's prefix in it;
        // its generated dataset goes to the store too, so no pod needs a volume another pod sees.
        var root = rendered.JobYaml("demo-sora-job");
        root.Map("checkpoint").Scalar("store").Should().MatchRegex("^az://[a-z0-9-]{3,63}/[^/]+", "checkpoint.store is az://CONTAINER/PREFIX");
        root.Map("data").Scalar("generate").Should().Be("true");
        foreach (var workload in rendered.OfKind("Job").Concat(rendered.OfKind("Deployment")))
        {
            PodSpec(workload).Sequence("volumes").Children.OfType<YamlMappingNode>()
                .Should().OnlyContain(v => v.Get("persistentVolumeClaim") == null, $"{workload.Map("metadata").Scalar("name")} mounts no claim");
        }

        // Every pod that opens the store gets the account of the emulator the default values run.
        foreach (var workload in rendered.OfKind("Job"))
        {
            Container(workload).Sequence("env").Named("AZURE_STORAGE_CONNECTION_STRING").Map("valueFrom").Map("secretKeyRef").Scalar("name").Should().Be("demo-sora-emulator");
        }
    }

    [Theory]
    [MemberData(nameof(AllValues))]
    public void Every_values_files_job_loads_with_the_jobs_own_config_loader(string values)
    {
        var rendered = HelmChart.Render(values == "values.yaml" ? [] : [values]);
        var configMap = rendered.OfKind("ConfigMap").Select(c => c.Map("metadata").Scalar("name")!).Single(n => n.EndsWith("-job", StringComparison.Ordinal));

        var job = Sora.Distributed.Configuration.JobConfig.Parse(rendered.JobYamlText(configMap), $"{values}: job.yaml");

        job.Checkpoint.Store.Should().NotBeNull($"{values} names the job's store");
        if (values == "values.yaml")
        {
            job.Checkpoint.IsBlob.Should().BeTrue("the default job keeps its store in blob storage: no shared volume");
            var store = new Sora.Distributed.Store.JobStore(new Sora.Checkpoint.Stores.LocalDirectoryStore(Path.GetTempPath()), job.Checkpoint.Store!);
            store.PlaceData(job.Data, job.Seed, multiNode: true).InStore.Should().BeTrue("its generated dataset is written into the store, where both pods read it");
        }
    }

    [Fact]
    public void A_shared_volume_is_mounted_at_the_same_path_in_every_pod()
    {
        var rendered = HelmChart.Render([], """
            storage: {emulator: {enabled: false}, sharedVolume: {claimName: team-rwx, mountPath: /mnt/store}}
            job:
              config: |
                name: tiny
                model: {preset: tiny}
                checkpoint: {store: /mnt/store/tiny}
            """);
        foreach (var workload in new[] { rendered.Single("Job", Coordinator), rendered.Single("Job", Nodes) })
        {
            PodSpec(workload).Sequence("volumes").Named("store").Map("persistentVolumeClaim").Scalar("claimName").Should().Be("team-rwx");
            Container(workload).Sequence("volumeMounts").Named("store").Scalar("mountPath").Should().Be("/mnt/store");
        }

        HelmChart.Render([]).OfKind("Job").Should().AllSatisfy(job => PodSpec(job).Sequence("volumes").HasNamed("store").Should().BeFalse());
    }

    [Fact]
    public void The_coordinator_exposes_its_three_ports_and_probes_healthz()
    {
        var rendered = HelmChart.Render([]);
        var deployment = rendered.Single("Job", Coordinator);
        var container = Container(deployment);
        Strings(container.Sequence("command")).Should().Equal("sora");
        Strings(container.Sequence("args")).Take(2).Should().Equal("coordinator", "/etc/sora/job/job.yaml");
        Flag(container, "--listen").Should().Be("0.0.0.0:29400");
        Flag(container, "--api-listen").Should().Be("0.0.0.0:8080");
        Flag(container, "--store-port").Should().Be("29401");
        Flag(container, "--advertise").Should().Be(CoordinatorHost);

        var ports = container.Sequence("ports");
        var expected = new Dictionary<string, string> { ["akka"] = "29400", ["store"] = "29401", ["http"] = "8080" };
        foreach (var (name, port) in expected)
        {
            ports.Named(name).Scalar("containerPort").Should().Be(port);
        }

        var service = rendered.Single("Service", Coordinator).Map("spec");
        SelectorMatches(service.Map("selector"), deployment.Map("spec").Map("template").Map("metadata").Map("labels")).Should().BeTrue();
        foreach (var (name, port) in expected)
        {
            var servicePort = service.Sequence("ports").Named(name);
            servicePort.Scalar("port").Should().Be(port);
            servicePort.Scalar("targetPort").Should().Be(name);
        }

        foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
        {
            var get = container.Map(probe).Map("httpGet");
            get.Scalar("path").Should().Be("/healthz", probe);
            get.Scalar("port").Should().Be("http", probe);
        }

        // The job YAML comes from the chart's ConfigMap.
        var jobVolume = PodSpec(deployment).Sequence("volumes").Named("job").Map("configMap");
        jobVolume.Scalar("name").Should().Be("demo-sora-job");
        rendered.Single("ConfigMap", "demo-sora-job").Map("data").Scalar("job.yaml").Should().Contain("preset: tiny");
        container.Sequence("volumeMounts").Named("job").Scalar("mountPath").Should().Be("/etc/sora/job");
    }

    [Fact]
    public void The_coordinator_is_a_job_that_restarts_on_failure_and_completes_when_it_exits_0()
    {
        var rendered = HelmChart.Render([], "coordinator:\n  backoffLimit: 5\n");
        rendered.OfKind("Deployment").Should().NotContain(d => d.Map("metadata").Map("labels").Scalar("app.kubernetes.io/component") == "coordinator",
            "a coordinator exits when its training job ends; a Deployment would restart it forever");
        var job = rendered.Single("Job", Coordinator);
        var spec = job.Map("spec");
        spec.Scalar("completions").Should().Be("1");
        spec.Scalar("parallelism").Should().Be("1");
        spec.Scalar("backoffLimit").Should().Be("5");
        spec.Get("selector").Should().BeNull("the Job controller makes its own selector");
        PodSpec(job).Scalar("restartPolicy").Should().Be("OnFailure", "a crashed coordinator comes back in its pod and resumes from the last checkpoint");
        HelmChart.Render([]).Single("Job", Coordinator).Map("spec").Scalar("backoffLimit").Should().Be("3");
    }

    [Fact]
    public void NCCL_debug_output_is_set_from_the_values_on_GPU_nodes_only()
    {
        var gpu = Container(HelmChart.Render(["values-gpu.yaml"], "nodes:\n  nccl:\n    debug: INFO\n").Single("Job", Nodes));
        gpu.Sequence("env").Named("NCCL_DEBUG").Scalar("value").Should().Be("INFO");

        var cpu = HelmChart.Render(["values-cpu.yaml"], "nodes:\n  nccl:\n    debug: INFO\n    socketIfname: eth0\n");
        cpu.Printed.Should().NotContain(o => o.Text.Contains("NCCL_", StringComparison.Ordinal), "CPU workers talk over Gloo");
    }

    [Fact]
    public void CPU_values_ask_for_no_GPU_and_set_the_worker_count()
    {
        var rendered = HelmChart.Render(["values-cpu.yaml"]);
        var agent = Container(rendered.Single("Job", Nodes));
        Flag(agent, "--nproc-per-node").Should().Be("2");
        foreach (var section in new[] { "limits", "requests" })
        {
            agent.Map("resources").Map(section).Get("nvidia.com/gpu").Should().BeNull(section);
        }

        rendered.Printed.Should().NotContain(o => o.Text.Contains("nvidia.com/gpu", StringComparison.Ordinal));
    }

    [Fact]
    public void Elastic_values_map_onto_the_coordinators_flags()
    {
        var rendered = HelmChart.Render(["values-elastic.yaml"]);
        var coordinator = Container(rendered.Single("Job", Coordinator));
        Flag(coordinator, "--nnodes").Should().Be("2:4");
        Flag(coordinator, "--max-restarts").Should().Be("10");
        Flag(coordinator, "--hang-timeout").Should().Be("600");
        rendered.Single("Job", Nodes).Map("spec").Scalar("completions").Should().Be("4");
        rendered.Single("Job", Nodes).Map("spec").Scalar("backoffLimit").Should().Be("20");
        Flag(Container(rendered.Single("Job", Nodes)), "--nproc-per-node").Should().Be("1");
    }

    [Fact]
    public void Unset_restart_budget_and_hang_timeout_leave_the_job_yamls_own()
    {
        var args = Strings(Container(HelmChart.Render([]).Single("Job", Coordinator)).Sequence("args"));
        args.Should().NotContain("--max-restarts").And.NotContain("--hang-timeout");
        args.Should().ContainInConsecutiveOrder("--nnodes", "2");
    }

    [Fact]
    public void Workload_identity_uses_no_secret_for_storage()
    {
        var rendered = HelmChart.Render(["values-workload-identity.yaml"]);
        var account = rendered.Single("ServiceAccount", "demo-sora");
        account.Map("metadata").Map("annotations").Scalar("azure.workload.identity/client-id").Should().Be("00000000-0000-0000-0000-000000000000");

        foreach (var workload in new[] { rendered.Single("Job", Coordinator), rendered.Single("Job", Nodes) })
        {
            workload.Map("spec").Map("template").Map("metadata").Map("labels").Scalar("azure.workload.identity/use").Should().Be("true");
            PodSpec(workload).Scalar("serviceAccountName").Should().Be("demo-sora");
            var env = Container(workload).Get("env") as YamlSequenceNode;
            (env?.HasNamed("AZURE_STORAGE_CONNECTION_STRING") ?? false).Should().BeFalse();
            (env?.HasNamed("AZURE_STORAGE_KEY") ?? false).Should().BeFalse();
        }

        rendered.OfKind("Secret").Select(s => s.Map("metadata").Scalar("name")).Should().Equal(TokenSecret);
    }

    [Fact]
    public void The_API_token_comes_from_a_Secret_as_a_file()
    {
        var rendered = HelmChart.Render([]);
        var secret = rendered.Single("Secret", TokenSecret);
        var token = Encoding.UTF8.GetString(Convert.FromBase64String(secret.Map("data").Scalar("token")!));
        token.Length.Should().BeGreaterThanOrEqualTo(32);

        foreach (var workload in new[] { rendered.Single("Job", Coordinator), rendered.Single("Job", Nodes) })
        {
            var container = Container(workload);
            Flag(container, "--token-file").Should().Be(TokenFile);
            container.Sequence("volumeMounts").Named("token").Scalar("mountPath").Should().Be(Path.GetDirectoryName(TokenFile));
            var volume = PodSpec(workload).Sequence("volumes").Named("token").Map("secret");
            volume.Scalar("secretName").Should().Be(TokenSecret);
            volume.Sequence("items").Named("token", "key").Scalar("path").Should().Be(Path.GetFileName(TokenFile));
            var env = container.Get("env") as YamlSequenceNode;
            (env?.HasNamed("SORA_JOB_TOKEN") ?? false).Should().BeFalse("the token is a file: workers inherit the environment");
        }

        // Nothing else in the release carries the token.
        rendered.Printed.Where(o => o.Node.Scalar("kind") != "Secret")
            .Should().NotContain(o => o.Text.Contains(token, StringComparison.Ordinal) || o.Text.Contains(secret.Map("data").Scalar("token")!, StringComparison.Ordinal));
    }

    [Fact]
    public void Existing_token_secret_and_job_config_map_are_used_and_not_created()
    {
        var rendered = HelmChart.Render([], "apiToken: {existingSecret: ops-token, key: api}\njob: {existingConfigMap: ops-job, configKey: train.yaml}\n");
        rendered.OfKind("Secret").Select(s => s.Map("metadata").Scalar("name")).Should().Equal(["demo-sora-emulator"], "only the emulator's connection string: the token's Secret is the operator's");
        rendered.OfKind("ConfigMap").Should().BeEmpty();
        var deployment = rendered.Single("Job", Coordinator);
        var volumes = PodSpec(deployment).Sequence("volumes");
        volumes.Named("token").Map("secret").Scalar("secretName").Should().Be("ops-token");
        volumes.Named("token").Map("secret").Sequence("items").Named("api", "key").Scalar("path").Should().Be("token");
        volumes.Named("job").Map("configMap").Scalar("name").Should().Be("ops-job");
        volumes.Named("job").Map("configMap").Sequence("items").Named("train.yaml", "key").Scalar("path").Should().Be("job.yaml");
    }

    [Fact]
    public void The_ServiceMonitor_is_rendered_only_when_enabled_and_scrapes_with_the_token()
    {
        HelmChart.Render([]).OfKind("ServiceMonitor").Should().BeEmpty();
        HelmChart.Render(["values-gpu.yaml"]).OfKind("ServiceMonitor").Should().BeEmpty();

        var rendered = HelmChart.Render([], "monitoring:\n  serviceMonitor:\n    enabled: true\n    interval: 5s\n    labels: {release: prom}\n");
        var monitor = rendered.Single("ServiceMonitor", Coordinator);
        monitor.Map("metadata").Map("labels").Scalar("release").Should().Be("prom");
        var endpoint = (YamlMappingNode)monitor.Map("spec").Sequence("endpoints")[0];
        endpoint.Scalar("port").Should().Be("http");
        endpoint.Scalar("path").Should().Be("/metrics");
        endpoint.Scalar("interval").Should().Be("5s");
        var credentials = endpoint.Map("authorization").Map("credentials");
        credentials.Scalar("name").Should().Be(TokenSecret);
        credentials.Scalar("key").Should().Be("token");
        var service = rendered.Single("Service", Coordinator);
        SelectorMatches(monitor.Map("spec").Map("selector").Map("matchLabels"), service.Map("metadata").Map("labels")).Should().BeTrue();
    }

    [Fact]
    public void The_Grafana_dashboard_ships_from_cluster_grafana_with_the_sidecar_label()
    {
        HelmChart.Render([]).OfKind("ConfigMap").Should().ContainSingle("only the job's ConfigMap without the dashboard");
        var rendered = HelmChart.Render(["values-workload-identity.yaml"]);
        var dashboard = rendered.Single("ConfigMap", "demo-sora-dashboard");
        dashboard.Map("metadata").Map("labels").Scalar("grafana_dashboard").Should().Be("1");
        var shipped = JsonDocument.Parse(File.ReadAllText(SourceCheckout.PathOf("cluster", "grafana", "sora-training.json")));
        var inChart = JsonDocument.Parse(dashboard.Map("data").Scalar("sora-training.json")!);
        inChart.RootElement.GetProperty("uid").GetString().Should().Be(shipped.RootElement.GetProperty("uid").GetString());
        inChart.RootElement.ToString().Should().Be(shipped.RootElement.ToString());
    }

    [Theory]
    [MemberData(nameof(AllValues))]
    public void Pods_run_as_non_root_and_no_secret_is_a_plain_value(string valuesFile)
    {
        var rendered = HelmChart.Render(valuesFile == "values.yaml" ? [] : [valuesFile]);
        foreach (var workload in rendered.OfKind("Deployment").Concat(rendered.OfKind("Job")))
        {
            PodSpec(workload).Map("securityContext").Scalar("runAsNonRoot").Should().Be("true");
            var container = Container(workload);
            container.Map("securityContext").Scalar("allowPrivilegeEscalation").Should().Be("false");
            container.Map("securityContext").Scalar("readOnlyRootFilesystem").Should().Be("true");
            foreach (var variable in (container.Get("env") as YamlSequenceNode)?.Children.OfType<YamlMappingNode>() ?? [])
            {
                var name = variable.Scalar("name")!;
                if (name.Contains("TOKEN", StringComparison.Ordinal) || name.Contains("CONNECTION", StringComparison.Ordinal) || name.Contains("SAS", StringComparison.Ordinal))
                {
                    variable.Get("value").Should().BeNull($"{name} must come from a Secret");
                }
            }
        }

        foreach (var (_, text) in rendered.Printed.Where(o => o.Node.Scalar("kind") == "ConfigMap"))
        {
            text.Should().NotContainAny(["AccountKey=", "SharedAccessSignature=", "sig="]);
        }
    }

    private static bool SelectorMatches(YamlMappingNode selector, YamlMappingNode labels) =>
        selector.Children.All(pair => labels.Get(((YamlScalarNode)pair.Key).Value!) is YamlScalarNode value && value.Value == ((YamlScalarNode)pair.Value).Value);
}
