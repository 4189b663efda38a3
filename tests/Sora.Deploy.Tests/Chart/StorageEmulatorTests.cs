using System.Net;
using System.Net.Sockets;
using System.Text;
using Azure.Core.Pipeline;
using Sora.Checkpoint.Stores;
using Sora.Data.Storage;
using Sora.Deploy.Tests.Support;
using YamlDotNet.RepresentationModel;
using static Sora.Deploy.Tests.Support.RenderedManifests;

namespace Sora.Deploy.Tests.Chart;

/// <summary>
/// The in-cluster Azurite (templates/storage-emulator.yaml): rendered only when enabled, and, as rendered, a store the
/// job can write to through the Service's name with the connection string the pods get.
/// </summary>
public class StorageEmulatorTests
{
    private const string Emulator = "demo-sora-emulator";
    private const string ServiceHost = "demo-sora-emulator.training.svc.cluster.local";

    [Fact]
    public void The_emulators_resources_render_only_when_it_is_enabled()
    {
        var rendered = HelmChart.Render([]);
        rendered.Single("Deployment", Emulator);
        rendered.Single("Service", Emulator);
        rendered.Single("Secret", Emulator);
        rendered.OfKind("PersistentVolumeClaim").Should().BeEmpty("the emulator keeps its blobs in an emptyDir unless persistence is enabled");
        PodSpec(rendered.Single("Deployment", Emulator)).Sequence("volumes").Named("data").Get("emptyDir").Should().NotBeNull();
        foreach (var job in rendered.OfKind("Job"))
        {
            var init = (YamlMappingNode)PodSpec(job).Sequence("initContainers").Children.Single();
            init.Scalar("name").Should().Be("wait-for-store");
            init.Sequence("env").Named("STORE_HOST").Scalar("value").Should().Be(ServiceHost);
            Container(job).Sequence("env").Named("AZURE_STORAGE_CONNECTION_STRING").Map("valueFrom").Map("secretKeyRef").Scalar("name").Should().Be(Emulator);
        }

        foreach (var off in new[] { HelmChart.Render(["values-gpu.yaml"]), HelmChart.Render(["values-workload-identity.yaml"]) })
        {
            off.Objects.Should().NotContain(o => o.Map("metadata").Scalar("name") == Emulator);
            off.Printed.Should().NotContain(o => o.Text.Contains(Emulator, StringComparison.Ordinal), "nothing refers to an emulator that is off");
            off.OfKind("Job").Should().AllSatisfy(job => PodSpec(job).Get("initContainers").Should().BeNull());
        }

        var persistent = HelmChart.Render([], "storage:\n  emulator:\n    persistence: {enabled: true, size: 5Gi, storageClassName: fast}\n");
        var claim = persistent.Single("PersistentVolumeClaim", Emulator);
        claim.Map("metadata").Map("annotations").Scalar("helm.sh/resource-policy").Should().Be("keep", "stop, uninstall and install resume from the store");
        claim.Map("spec").Scalar("storageClassName").Should().Be("fast");
        claim.Map("spec").Map("resources").Map("requests").Scalar("storage").Should().Be("5Gi");
        PodSpec(persistent.Single("Deployment", Emulator)).Sequence("volumes").Named("data").Map("persistentVolumeClaim").Scalar("claimName").Should().Be(Emulator);
    }

    [Fact]
    public async Task The_rendered_emulator_takes_the_jobs_first_write_at_the_services_name()
    {
        var emulator = RenderedEmulator.Of(HelmChart.Render([]));
        // The store's first write creates the missing container (AzureBlobStore's CreateIfNotExists): no init step does.
        await using var azurite = await AzuriteProcess.StartAsync(null, emulator.Options);
        var dialled = new List<string>();
        using var store = emulator.OpenJobStore(azurite.Port, dialled);

        var name = emulator.NameInStore("control/probe");
        await store.PutBytesAsync(name, "fenced"u8.ToArray());
        (await store.ReadAllBytesAsync(name)).Should().Equal("fenced"u8.ToArray());
        dialled.Should().NotBeEmpty().And.OnlyContain(d => d == $"{ServiceHost}:10000", "the connection string names the emulator's Service");
    }

    [Fact]
    public async Task Without_disableProductStyleUrl_Azurite_reads_the_services_name_as_an_account()
    {
        // Why the chart passes the flag: a dotted host name is taken for a production-style URL, ACCOUNT.blob...
        var emulator = RenderedEmulator.Of(HelmChart.Render([]));
        var options = emulator.Options.Where(o => o != "--disableProductStyleUrl").ToArray();
        options.Should().HaveCount(emulator.Options.Count - 1);
        await using var azurite = await AzuriteProcess.StartAsync(null, options);
        using var store = emulator.OpenJobStore(azurite.Port, [], retries: 0);

        var write = async () => await store.PutBytesAsync(emulator.NameInStore("control/probe"), "fenced"u8.ToArray());
        (await write.Should().ThrowAsync<CheckpointStoreException>()).Which.HttpStatus.Should().NotBeNull("Azurite answered, refusing the account");
    }

    /// <summary>What the chart renders for the emulator: Azurite's flags, the pods' connection string and the job's store.</summary>
    private sealed record RenderedEmulator(IReadOnlyList<string> Options, string ConnectionString, string Store)
    {
        public static RenderedEmulator Of(RenderedManifests rendered)
        {
            var deployment = rendered.Single("Deployment", Emulator);
            var azurite = Container(deployment);
            Strings(azurite.Sequence("command")).Should().Equal("azurite-blob");
            var args = Strings(azurite.Sequence("args"));
            Flag(azurite, "--blobHost").Should().Be("0.0.0.0", "it serves the pod's address, not only loopback");
            var port = azurite.Sequence("ports").Named("blob").Scalar("containerPort");
            Flag(azurite, "--blobPort").Should().Be(port);
            Flag(azurite, "--location").Should().Be(azurite.Sequence("volumeMounts").Named("data").Scalar("mountPath"));
            var servicePort = rendered.Single("Service", Emulator).Map("spec").Sequence("ports").Named("blob");
            servicePort.Scalar("port").Should().Be("10000", "the Azure SDK parses the account from the path (an emulator's URL) on port 10000");
            servicePort.Scalar("targetPort").Should().Be("blob");

            // AzuriteProcess sets the host, port and location of a loopback test server; the rest are the chart's.
            var options = args.Where((_, i) => !IsPlaced(args, i)).ToArray();
            options.Should().Contain(["--disableTelemetry", "--skipApiVersionCheck", "--disableProductStyleUrl"]);

            var secret = rendered.Single("Secret", Emulator).Map("data").Scalar("connectionString")!;
            var store = rendered.JobYaml("demo-sora-job").Map("checkpoint").Scalar("store")!;
            return new RenderedEmulator(options, Encoding.UTF8.GetString(Convert.FromBase64String(secret)), store);
        }

        /// <summary>
        /// The job's store opened as a worker opens it (its location with the connection string from the environment),
        /// with connections to the emulator's Service sent to the loopback Azurite: the requests keep the Service's name.
        /// </summary>
        public AzureBlobStore OpenJobStore(int azuritePort, List<string> dialled, int retries = 3)
        {
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (context, cancellationToken) =>
                {
                    lock (dialled)
                    {
                        dialled.Add($"{context.DnsEndPoint.Host}:{context.DnsEndPoint.Port}");
                    }

                    var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await socket.ConnectAsync(IPAddress.Loopback, azuritePort, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                },
            };
            var options = new AzureBlobStoreOptions { Transport = new HttpClientTransport(handler) };
            options.Retry.MaxRetries = retries;
            options.Retry.Delay = TimeSpan.FromMilliseconds(100);
            return AzureBlobLocation.Parse(Store).OpenStore(options, variable => variable == AzureBlobLocation.ConnectionStringVariable ? ConnectionString : null);
        }

        /// <summary>An object under the store's prefix (the container-level store holds every job's prefix).</summary>
        public string NameInStore(string name) => AzureBlobLocation.Parse(Store).Prefix + name;

        private static bool IsPlaced(IReadOnlyList<string> args, int i) =>
            args[i] is "--blobHost" or "--blobPort" or "--location" || (i > 0 && args[i - 1] is "--blobHost" or "--blobPort" or "--location");
    }
}
