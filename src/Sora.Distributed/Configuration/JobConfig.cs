using Sora.Distributed.Devices;
using Sora.Model.Dit;
using Sora.Model.Flow;
using Sora.Model.Vae;

namespace Sora.Distributed.Configuration;

/// <summary>
/// A training job as written in its YAML file: one record per concern (after torchtitan's job_config),
/// each validated on load with errors that name the file, line and key.
/// </summary>
public sealed record JobConfig
{
    public string Name { get; init; } = "job";

    public ulong Seed { get; init; }

    /// <summary>libtorch and OpenBLAS threads; 0 = every core.</summary>
    public int Threads { get; init; }

    /// <summary>The run directory: weights, vocabulary, samples, loss curve.</summary>
    public string Output { get; init; } = "runs/job";

    /// <summary>Where the ranks train (<see cref="DevicePlacement.Choose"/>): auto, cpu or cuda.</summary>
    public DeviceSetting Device { get; init; } = DeviceSetting.Auto;

    public DataConfig Data { get; init; } = new();

    public VaeConfig Vae { get; init; } = VaeConfig.Patch;

    public StageConfig VaeTraining { get; init; } = new() { Steps = 500, BatchSize = 8, LearningRate = 1e-3, WarmupSteps = 50 };

    public DiTConfig Model { get; init; } = DiTConfig.Tiny with { LatentChannels = VaeConfig.Patch.LatentChannels };

    public FlowOptions Flow { get; init; } = new();

    public StageConfig Training { get; init; } = new() { Steps = 2000, BatchSize = 16, LearningRate = 5e-4, WarmupSteps = 100, EmaDecay = 0.999 };

    public SamplingConfig Sampling { get; init; } = new();

    /// <summary>Checkpoints under <c>sora launch</c>.</summary>
    public CheckpointConfig Checkpoint { get; init; } = new();

    /// <summary>Failure handling under <c>sora launch</c>.</summary>
    public FaultConfig Fault { get; init; } = new();

    /// <summary>The job file's text, saved into the run directory.</summary>
    public string Source { get; init; } = string.Empty;

    /// <summary>This job writing to <paramref name="output"/>, with its <see cref="Source"/> saying so (the text a launcher sends its agents).</summary>
    public JobConfig WithOutput(string output) =>
        this with { Output = output, Source = YamlSection.WithTopLevelScalar(Source, "output", output, $"job '{Name}'") };

    /// <summary>This job on <paramref name="device"/>, with its <see cref="Source"/> saying so (what <c>--device</c> sends a launcher's agents).</summary>
    public JobConfig WithDevice(DeviceSetting device) =>
        this with { Device = device, Source = YamlSection.WithTopLevelScalar(Source, "device", DevicePlacement.Name(device), $"job '{Name}'") };

    public static JobConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new ConfigException($"{path}: job file not found");
        }

        return Parse(File.ReadAllText(path), path);
    }

    public static JobConfig Parse(string yaml, string file) => Bind(YamlSection.Parse(yaml, file), yaml);

    /// <summary>Reads the job from a parsed document; the section then knows every key it was asked for.</summary>
    internal static JobConfig Bind(YamlSection root, string yaml)
    {
        var defaults = new JobConfig();
        var name = root.String("name", defaults.Name);
        var config = new JobConfig
        {
            Name = name,
            Seed = (ulong)root.Long("seed", 0, min: 0),
            Threads = root.Int("threads", 0, min: 0, max: 1024),
            Output = root.String("output", $"runs/{name}"),
            Device = Enum.Parse<DeviceSetting>(root.Choice("device", "auto", "auto", "cpu", "cuda"), ignoreCase: true),
            Data = DataConfig.Read(root.Section("data")),
            Vae = ReadVae(root.Section("vae")),
            VaeTraining = StageConfig.Read(root.Section("vae").Section("train"), defaults.VaeTraining),
            Flow = ReadFlow(root.Section("flow")),
            Training = StageConfig.Read(root.Section("train"), defaults.Training, mixedPrecision: true),
            Sampling = SamplingConfig.Read(root.Section("sampling")),
            Checkpoint = CheckpointConfig.Read(root.Section("checkpoint")),
            Fault = FaultConfig.Read(root.Section("fault")),
            Source = yaml,
        };

        // The DiT denoises the VAE's latents: its channel count follows the VAE's.
        config = config with { Model = ReadModel(root.Section("model"), config.Vae.LatentChannels) };
        root.ThrowOnUnknownKeys();
        return config;
    }

    private static VaeConfig ReadVae(YamlSection section)
    {
        var preset = section.Choice("preset", "patch", "patch", "tiny", "base");
        var baseConfig = preset switch
        {
            "tiny" => VaeConfig.Tiny,
            "base" => VaeConfig.Base,
            _ => VaeConfig.Patch,
        };
        var config = baseConfig with
        {
            LatentChannels = section.Int("latent_channels", baseConfig.LatentChannels, min: 1),
            TemporalDownsample = section.Int("temporal_downsample", baseConfig.TemporalDownsample, min: 1),
            SpatialDownsample = section.Int("spatial_downsample", baseConfig.SpatialDownsample, min: 1),
            KlWeight = section.Double("kl_weight", baseConfig.KlWeight, min: 0),
            BaseChannels = section.Int("width", baseConfig.BaseChannels, min: 1),
            PixelHeadChannels = section.Int("pixel_head", baseConfig.PixelHeadChannels, min: 0),
        };
        return Validated(section, () => config.Validate(), config);
    }

    private static DiTConfig ReadModel(YamlSection section, int latentChannels)
    {
        var preset = section.Choice("preset", "tiny", "tiny", "bench", "dit-s", "dit-b");
        var p = DiTConfig.Preset(preset) with { LatentChannels = latentChannels };
        var patch = section.Ints("patch", [p.Patch.T, p.Patch.H, p.Patch.W], min: 1);
        if (patch.Length != 3)
        {
            throw section.Invalid("patch", $"must be [t, h, w] (got {patch.Length} values)");
        }

        var config = p with
        {
            Patch = (patch[0], patch[1], patch[2]),
            Hidden = section.Int("hidden", p.Hidden, min: 8),
            Depth = section.Int("depth", p.Depth, min: 1),
            Heads = section.Int("heads", p.Heads, min: 1),
            MlpRatio = section.Double("mlp_ratio", p.MlpRatio, min: 0.25),
            TextDim = section.Int("text_dim", p.TextDim, min: 2),
            TextLayers = section.Int("text_layers", p.TextLayers, min: 0),
            MaxTextTokens = section.Int("max_text_tokens", p.MaxTextTokens, min: 1),
            CrossAttention = section.Bool("cross_attention", p.CrossAttention),
            TrainTextEncoder = section.Bool("train_text_encoder", p.TrainTextEncoder),
        };
        return Validated(section, () => config.Validate(), config);
    }

    private static FlowOptions ReadFlow(YamlSection section)
    {
        var d = new FlowOptions();
        var options = new FlowOptions
        {
            LogitMean = section.Double("logit_mean", d.LogitMean),
            LogitStd = section.Double("logit_std", d.LogitStd, min: 1e-6),
            ResolutionShift = section.Bool("resolution_shift", d.ResolutionShift),
            ShiftBaseTokens = section.Long("shift_base_tokens", d.ShiftBaseTokens, min: 1),
            MaxShift = section.Double("max_shift", d.MaxShift, min: 1),
            CaptionDropout = section.Double("caption_dropout", d.CaptionDropout, min: 0, max: 1),
            FrameMaskProbability = section.Double("frame_mask_probability", d.FrameMaskProbability, min: 0, max: 1),
            FrameNoiseCorrelation = section.Double("frame_noise_correlation", d.FrameNoiseCorrelation, min: 0, max: 0.99),
        };
        return Validated(section, () => options.Validate(), options);
    }

    // The records' own checks speak of "model.hidden" etc.; prefix the file so the message is complete.
    private static T Validated<T>(YamlSection section, Action validate, T value)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"{section.File}: {e.Message}", e);
        }

        return value;
    }
}
