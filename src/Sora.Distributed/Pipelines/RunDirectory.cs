using System.Text.Json;
using Sora.Checkpoint.Formats;
using Sora.Distributed.Configuration;
using Sora.Model.Dit;
using Sora.Model.Text;
using Sora.Model.Vae;
using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Distributed.Pipelines;

/// <summary>
/// The files a training job leaves behind and the way back from them: the job file, vocabulary, VAE and
/// DiT weights (trained and EMA), latent statistics, samples, the loss curve and a summary.
/// </summary>
public sealed class RunDirectory
{
    // NaN stands for "not measured" (e.g. the training loss of a resumed run with no steps left).
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public RunDirectory(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
    }

    public string Path { get; }

    public string JobFile => Combine("job.yaml");

    public string VocabularyFile => Combine("vocab.json");

    public string VaeWeights => Combine("vae.safetensors");

    public string DiTWeights => Combine("dit.safetensors");

    public string DiTEmaWeights => Combine("dit-ema.safetensors");

    public string LatentStatisticsFile => Combine("latent-stats.json");

    public string SamplesDirectory => Combine("samples");

    public string LossCurve => Combine("loss.png");

    public string SummaryFile => Combine("summary.json");

    public string EvaluationFile => Combine("eval.json");

    public void Create() => Directory.CreateDirectory(Path);

    public static void SaveWeights(Module module, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var scope = Tensor.NewDisposeScope();
        SafeTensorsFile.Write(path, module.StateDict(), metadata);
    }

    public static void SaveWeights(IReadOnlyDictionary<string, Tensor> state, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensorsFile.Write(path, state, metadata);

    public static void LoadWeights(Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: weights not found (was the run trained to the end?)", path);
        }

        var (tensors, _) = SafeTensorsFile.Read(path);
        try
        {
            module.LoadStateDict(tensors);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        finally
        {
            foreach (var tensor in tensors.Values)
            {
                tensor.Dispose();
            }
        }
    }

    public void SaveStatistics(LatentStatistics statistics) => File.WriteAllText(LatentStatisticsFile, JsonSerializer.Serialize(statistics, s_json));

    public LatentStatistics LoadStatistics() =>
        JsonSerializer.Deserialize<LatentStatistics>(File.ReadAllText(Require(LatentStatisticsFile)))
        ?? throw new InvalidDataException($"{LatentStatisticsFile}: empty");

    public static void WriteJson<T>(string path, T value) => File.WriteAllText(path, JsonSerializer.Serialize(value, s_json));

    /// <summary>The job this run was trained with.</summary>
    public JobConfig LoadJob() => JobConfig.Parse(File.ReadAllText(Require(JobFile)), JobFile);

    /// <summary>
    /// Rebuilds the generator from the run's files, with the EMA weights unless <paramref name="ema"/> is false, its models on
    /// <paramref name="device"/> (default the CPU; the weights files are device-independent).
    /// </summary>
    public VideoGenerator LoadGenerator(bool ema = true, Model.Sampling.SamplingOptions? sampling = null, Device? device = null)
    {
        var job = LoadJob();
        var tokenizer = WordTokenizer.Load(Require(VocabularyFile));
        var vae = new VideoVae(job.Vae);
        LoadWeights(vae, VaeWeights);
        vae.To(device ?? Device.Cpu);
        var dit = new VideoDiT(job.Model, tokenizer.VocabularySize);
        LoadWeights(dit, ema ? DiTEmaWeights : DiTWeights);
        dit.To(device ?? Device.Cpu);
        return new VideoGenerator(dit, vae, tokenizer, LoadStatistics(), job.Flow, sampling ?? job.Sampling.Options);
    }

    private string Combine(string name) => System.IO.Path.Combine(Path, name);

    private string Require(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"{path}: not found; is {Path} a finished training run?", path);
}
