using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using Sora.Cli.Launch;
using Sora.Cluster.Agent;
using Sora.Cluster.Coordinator;
using Sora.Cluster.Hosting;
using Sora.Distributed.Configuration;
using Sora.Cluster.Workers;
using Sora.Distributed.Devices;
using Sora.Distributed.Pipelines;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary>
/// <c>sora launch</c> (coordinator, agent and workers from one command; torchrun's conventions), <c>sora coordinator</c>
/// and <c>sora agent</c> (the same pieces on separate hosts).
/// </summary>
internal static class LaunchCommand
{
    private const int DefaultAkkaPort = 29400;
    private const int DefaultStorePort = 29401;

    public static Command Create()
    {
        var job = new Argument<FileInfo>("job") { Description = "The YAML job file." };
        var nodes = new Option<string?>("--nnodes") { Description = "Nodes: N, or MIN:MAX for an elastic job (default: the job's fault.min_nodes/max_nodes)." };
        var processes = new Option<int?>("--nproc-per-node") { Description = "Workers per node (one per device; the batch sizes must be multiples of the world size). Default: the visible GPUs when the job's device is CUDA, else 1." };
        var endpoint = new Option<string?>("--rdzv-endpoint") { Description = "HOST:PORT of the coordinator. This machine hosts it when it can bind that address, else joins it as an agent. Default: standalone on this machine." };
        var options = new CoordinatorFlags(0, 0);
        var command = new Command("launch", "Run a training job on this machine or across nodes: a coordinator, one agent per node and its workers; failures restart the job from its last committed checkpoint.")
        {
            job, nodes, processes, endpoint,
        };
        options.AddTo(command);
        command.SetAction(parse =>
        {
            var config = JobConfig.Load(parse.GetRequiredValue(job).FullName);
            var n = parse.GetValue(processes) ?? DevicePlacement.DefaultProcessesPerNode(config.Device);
            var fault = options.Fault(parse, config, parse.GetValue(nodes));
            BatchSplit.CheckLaunch(ClusterJob.Batches(config), fault.MinNodes, fault.MaxNodes, n);

            // This machine's workers must each get a device: refused here, before a coordinator or agent starts.
            DevicePlacement.ForThisProcess(config.Device, localRank: n - 1);
            var (host, port) = parse.GetValue(endpoint) is { } e ? ClusterJob.Endpoint(e, "--rdzv-endpoint") : ("127.0.0.1", ClusterJob.FreePort());
            var joins = parse.GetValue(endpoint) is not null && !CanBind(host, port);
            var endpoints = new CoordinatorEndpoints(host, port, host, options.ApiHost(parse, host), options.ApiPort(parse));
            if (!joins)
            {
                CheckEndpoints(endpoints);
            }

            var token = ClusterJob.Token(options.TokenFile(parse), create: !joins);
            var threads = config.Threads > 0 ? config.Threads : Environment.ProcessorCount;
            var agent = ClusterJob.Agent(Dns.GetHostName(), host == "127.0.0.1" ? "127.0.0.1" : ClusterJob.LocalAddressTowards(host), n, threads, token, fault.CoordinatorTimeoutOrDefault);
            if (joins)
            {
                // Someone else hosts the coordinator: join it.
                return RunAgent(agent, host, port, agent.Host);
            }

            return RunCoordinator(config, endpoints, options.StorePort(parse), fault, options.Parallel(parse), token, agent);
        });
        return command;
    }

    public static Command CreateCoordinator()
    {
        var job = new Argument<FileInfo>("job") { Description = "The YAML job file." };
        var listen = new Option<string>("--listen") { Description = "HOST:PORT Akka remoting binds (only that address).", DefaultValueFactory = _ => $"0.0.0.0:{DefaultAkkaPort}" };
        var advertise = new Option<string?>("--advertise") { Description = "The address agents and workers reach this host at (default: the --listen host, or this host's name for 0.0.0.0)." };
        var nodes = new Option<string?>("--nnodes") { Description = "Nodes: N, or MIN:MAX for an elastic job." };
        var options = new CoordinatorFlags(8080, DefaultStorePort);
        var command = new Command("coordinator", "Run a job's coordinator: agents join it with `sora agent --coordinator HOST:PORT`.") { job, listen, advertise, nodes };
        options.AddTo(command);
        command.SetAction(parse =>
        {
            var config = JobConfig.Load(parse.GetRequiredValue(job).FullName);
            var fault = options.Fault(parse, config, parse.GetValue(nodes));
            var (host, port) = ClusterJob.Endpoint(parse.GetRequiredValue(listen), "--listen");
            var publicHost = parse.GetValue(advertise) ?? (host == "0.0.0.0" ? Dns.GetHostName() : host);
            var endpoints = new CoordinatorEndpoints(host, port, publicHost, options.ApiHost(parse, host), options.ApiPort(parse));
            CheckEndpoints(endpoints);
            var token = ClusterJob.Token(options.TokenFile(parse), create: true);
            return RunCoordinator(config, endpoints, options.StorePort(parse), fault, options.Parallel(parse), token, null);
        });
        return command;
    }

    public static Command CreateAgent()
    {
        var coordinator = new Option<string>("--coordinator") { Description = "HOST:PORT of the coordinator's Akka remoting.", Required = true };
        var processes = new Option<int?>("--nproc-per-node") { Description = "Workers on this node (one per device). Default: the visible GPUs where the shim has CUDA and one is visible, else 1." };
        var advertise = new Option<string?>("--advertise") { Description = "This node's address for the cluster and for Gloo (default: the local address that routes to the coordinator)." };
        var name = new Option<string?>("--node") { Description = "This node's name in the job (default: the host name)." };
        var threads = new Option<int>("--threads") { Description = "CPU threads split between this node's workers (default: every core).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var tokenFile = new Option<string?>("--token-file") { Description = "File holding the job token (default: SORA_JOB_TOKEN, else .sora/token)." };
        var coordinatorTimeout = new Option<double?>("--coordinator-timeout") { Description = "Seconds this node's workers keep running while the coordinator is unreachable (default: the job's fault.coordinator_timeout, which the coordinator sends)." };
        var command = new Command("agent", "Run this node's agent: joins the coordinator, starts and watches this node's workers.")
        {
            coordinator, processes, advertise, name, threads, tokenFile, coordinatorTimeout,
        };
        command.SetAction(parse =>
        {
            var (host, port) = ClusterJob.Endpoint(parse.GetRequiredValue(coordinator), "--coordinator");
            var n = parse.GetValue(processes) ?? DevicePlacement.DefaultProcessesPerNode(DeviceSetting.Auto);
            if (n < 1)
            {
                throw new ArgumentException($"--nproc-per-node must be >= 1 (got {n})");
            }

            var timeout = parse.GetValue(coordinatorTimeout);
            if (timeout is <= 0 or double.NaN)
            {
                throw new ArgumentException($"--coordinator-timeout must be > 0 seconds (got {timeout})");
            }

            var token = ClusterJob.Token(parse.GetValue(tokenFile), create: false);
            var address = parse.GetValue(advertise) ?? ClusterJob.LocalAddressTowards(host);
            var agent = ClusterJob.Agent(parse.GetValue(name) ?? Dns.GetHostName(), address, n, parse.GetValue(threads), token, timeout is { } seconds ? TimeSpan.FromSeconds(seconds) : null);
            return RunAgent(agent, host, port, address);
        });
        return command;
    }

    /// <summary>Fails, naming the endpoint, before anything is written or started.</summary>
    private static void CheckEndpoints(CoordinatorEndpoints endpoints)
    {
        ClusterJob.CheckBindable(endpoints.BindHost, endpoints.AkkaPort, "Akka remoting (--listen/--rdzv-endpoint)");
        if (endpoints.ApiPort != 0)
        {
            ClusterJob.CheckBindable(endpoints.ApiHost, endpoints.ApiPort, "the HTTP API (--api-listen)");
        }
    }

    private static int RunCoordinator(JobConfig config, CoordinatorEndpoints endpoints, int storePort, FaultPolicy fault, string parallel, string token, AgentOptions? localAgent)
    {
        using var events = new WriterJobEvents(System.Console.Out);
        if (config.Checkpoint.Every == 0)
        {
            events.Report("warning: checkpoint.every is 0: a failure restarts the job's stage from its start");
        }

        // A generated dataset is written once, before the first round, where every rank reads it (the store, for a multi-node job).
        var (data, inStore) = ClusterJob.WorkerData(config, fault);
        VideoSet.EnsureGenerated(data, config.Seed, new Sora.Data.SynchronousProgress<string>(events.Report), owned: inStore);

        var workers = new WorkerJobOptions(parallel, TimeSpan.FromSeconds(300), ClusterJob.Checkpoints(config)) { Dataset = ClusterJob.Dataset(config, fault) };
        var (success, message) = CoordinatorRun.RunAsync(endpoints, storePort, port => ClusterJob.Spec(config, fault, token, endpoints.PublicHost, port, workers), ClusterJob.Ledger(config), token,
            events, localAgent, (started, port) =>
            {
                var api = started.Url;
                ClusterJob.WriteCoordinatorFile(api, config.Name);
                events.Report($"coordinator of job '{config.Name}' at {ControlPlaneClusterAddress(endpoints)}; c10d store on port {port}");
                events.Report($"API: {api}/api/status (bearer token in {(Environment.GetEnvironmentVariable(ClusterJob.TokenVariable) is null ? ClusterJob.DefaultTokenFile : "$" + ClusterJob.TokenVariable)}); `sora status` and `sora stop` from this directory");
                events.Report($"worker logs: {Path.GetFullPath(Path.Combine(config.Output, "logs"))}");
                events.Report($"dashboard: {started.DashboardLink} (one-time link; `sora dashboard` prints a new one); Prometheus: {api}/metrics (bearer token)");
            }).GetAwaiter().GetResult();
        events.Dispose();
        AnsiConsole.MarkupLine(success ? $"[green]done[/]: {Markup.Escape(message)}" : $"[red]error:[/] {Markup.Escape(message)}");
        return success ? 0 : 1;
    }

    private static int RunAgent(AgentOptions agent, string coordinatorHost, int coordinatorPort, string bindHost)
    {
        using var events = new WriterJobEvents(System.Console.Out);
        using var interrupt = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; interrupt.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; interrupt.Cancel(); });
        events.Report($"agent '{agent.Node}' ({agent.Host}, {agent.ProcessesPerNode} worker(s)) joining the coordinator at {coordinatorHost}:{coordinatorPort}");
        var (code, message) = ControlPlaneHost.RunAgentAsync(agent, coordinatorHost, coordinatorPort, bindHost, events, TimeSpan.FromMinutes(5), interrupt.Token).GetAwaiter().GetResult();
        events.Dispose();
        AnsiConsole.MarkupLine(code == 0 ? $"[green]done[/]: {Markup.Escape(message)}" : $"[red]error:[/] {Markup.Escape(message)}");
        return code;
    }

    private static string ControlPlaneClusterAddress(CoordinatorEndpoints endpoints) => $"{endpoints.PublicHost}:{endpoints.AkkaPort}";

    private static bool CanBind(string host, int port)
    {
        try
        {
            ClusterJob.CheckBindable(host, port, "the coordinator");
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The flags <c>launch</c> and <c>coordinator</c> share.</summary>
    private sealed class CoordinatorFlags(int defaultApiPort, int defaultStorePort)
    {
        private readonly Option<int?> _maxRestarts = new("--max-restarts") { Description = "Failed rounds restarted from the last checkpoint before the job fails (default: the job's fault.max_restarts)." };
        private readonly Option<double?> _hangTimeout = new("--hang-timeout") { Description = "Seconds without progress before a rank counts as hung (default: fault.hang_timeout, else automatic)." };
        private readonly Option<string> _parallel = new("--parallel") { Description = "ddp or fsdp.", DefaultValueFactory = _ => "ddp" };
        private readonly Option<string?> _apiListen = new("--api-listen") { Description = "HOST:PORT of the HTTP API (default: the coordinator's host, port 8080 for `coordinator`, any free port for `launch`)." };
        private readonly Option<int> _storePort = new("--store-port") { Description = "The c10d rendezvous store's port (0: any free one).", DefaultValueFactory = _ => defaultStorePort };
        private readonly Option<string?> _tokenFile = new("--token-file") { Description = "File holding the job token (default: SORA_JOB_TOKEN, else a new one in .sora/token)." };

        public void AddTo(Command command)
        {
            command.Options.Add(_maxRestarts);
            command.Options.Add(_hangTimeout);
            command.Options.Add(_parallel);
            command.Options.Add(_apiListen);
            command.Options.Add(_storePort);
            command.Options.Add(_tokenFile);
        }

        public FaultPolicy Fault(ParseResult parse, JobConfig config, string? nodes) =>
            ClusterJob.Fault(config, nodes, parse.GetValue(_maxRestarts), parse.GetValue(_hangTimeout));

        public string Parallel(ParseResult parse) => parse.GetValue(_parallel) is "ddp" or "fsdp" ? parse.GetValue(_parallel)! : throw new ArgumentException($"--parallel: expected ddp or fsdp (got '{parse.GetValue(_parallel)}')");

        public string ApiHost(ParseResult parse, string host) => parse.GetValue(_apiListen) is { } api ? ClusterJob.Endpoint(api, "--api-listen").Host : host;

        public int ApiPort(ParseResult parse) => parse.GetValue(_apiListen) is { } api ? ClusterJob.Endpoint(api, "--api-listen").Port : defaultApiPort;

        public int StorePort(ParseResult parse) => parse.GetValue(_storePort);

        public string? TokenFile(ParseResult parse) => parse.GetValue(_tokenFile);
    }
}
