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

    /// <summary>The VAE stage's outputs a later stage (and <c>sora sample</c>) consumes: weights, latent statistics and vocabulary.</summary>
    public static IReadOnlyList<string> VaeOutputNames { get; } = [VaeWeightsName, LatentStatisticsName, VocabularyName];

    /// <summary>The file name of the VAE's weights.</summary>
    public const string VaeWeightsName = "vae.safetensors";

    private const string LatentStatisticsName = "latent-stats.json";

    private const string VocabularyName = "vocab.json";

    public string JobFile => Combine("job.yaml");

    public string VocabularyFile => Combine(VocabularyName);

    public string VaeWeights => Combine(VaeWeightsName);

    public string DiTWeights => Combine("dit.safetensors");

    public string DiTEmaWeights => Combine("dit-ema.safetensors");

    public string LatentStatisticsFile => Combine(LatentStatisticsName);

    public string SamplesDirectory => Combine("samples");

    public string LossCurve => Combine("loss.png");

    public string SummaryFile => Combine(SummaryName);

    /// <summary>The summary's file name: the last run output a job publishes to its store (its presence says the run is whole).</summary>
    public const string SummaryName = "summary.json";

    public string EvaluationFile => Combine("eval.json");

    /// <summary>Where the run read its dataset (a launched multi-node job reads it from its store, not where its job file says).</summary>
    public string DatasetFile => Combine("dataset.json");

    public void Create() => Directory.CreateDirectory(Path);

    /// <summary>The run's file of that name (e.g. one of <see cref="VaeOutputNames"/>).</summary>
    public string FileOf(string name) => Combine(name);

    /// <summary>A file's name relative to the run (with '/'), as the store's <c>run/</c> prefix keeps it.</summary>
    public string RelativeName(string file) => System.IO.Path.GetRelativePath(Path, file).Replace(System.IO.Path.DirectorySeparatorChar, '/');

    /// <summary>
    /// What a finished run publishes to its store's <c>run/</c>: the job file, vocabulary, weights (VAE, DiT, EMA), latent
    /// statistics, loss curve, summary and every sample; not the checkpoints, logs or evaluations kept next to them.
    /// </summary>
    public IEnumerable<string> Outputs()
    {
        foreach (var file in new[] { JobFile, DatasetFile, VocabularyFile, VaeWeights, DiTWeights, DiTEmaWeights, LatentStatisticsFile, LossCurve, SummaryFile }.Where(File.Exists))
        {
            yield return file;
        }

        if (Directory.Exists(SamplesDirectory))
        {
            foreach (var file in Directory.EnumerateFiles(SamplesDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                yield return file;
            }
        }
    }

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

    /// <summary>The job this run was trained with, reading its dataset where the run read it.</summary>
    public JobConfig LoadJob()
    {
        var job = JobConfig.Parse(File.ReadAllText(Require(JobFile)), JobFile);
        if (!File.Exists(DatasetFile))
        {
            return job;
        }

        var dataset = JsonSerializer.Deserialize<DatasetRecord>(File.ReadAllText(DatasetFile), s_json) ?? throw new InvalidDataException($"{DatasetFile}: empty");
        return job with { Data = job.Data with { Path = dataset.Path, Credential = Sora.Data.Storage.AzureBlobLocation.ParseCredential(dataset.Credential) } };
    }

    /// <summary>Records where the run read its dataset (it may not be where the job file says: a launched multi-node job reads it from its store).</summary>
    public void SaveDataset(DataConfig data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Path is not null)
        {
            WriteJson(DatasetFile, new DatasetRecord(data.Path, Sora.Data.Storage.AzureBlobLocation.Kebab(data.Credential)));
        }
    }

    private sealed record DatasetRecord(string Path, string Credential);

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
