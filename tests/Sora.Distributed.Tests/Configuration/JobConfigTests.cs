using Sora.Checkout;
using Sora.Distributed.Configuration;

namespace Sora.Distributed.Tests.Configuration;

public class JobConfigTests
{
    [Fact]
    public void The_shipped_jobs_parse_and_validate()
    {
        var configs = SourceCheckout.PathOf("configs");
        foreach (var file in Directory.GetFiles(configs, "*.yaml"))
        {
            var job = JobConfig.Load(file);
            job.Name.Should().NotBeNullOrWhiteSpace();
            job.Model.Validate();
        }

        var tiny = JobConfig.Load(Path.Combine(configs, "tiny.yaml"));
        tiny.Sampling.Prompts.Should().NotBeEmpty();
        tiny.Training.EmaDecay.Should().NotBeNull();

        // Both write and read one dataset (data.generate writes it once): describing it differently would train one of
        // them on clips its own keys do not describe.
        var framesJob = JobConfig.Load(Path.Combine(configs, "tiny-frames.yaml"));
        var frames = framesJob.Data;
        (framesJob.Seed, frames.Path, frames.Samples, frames.HeldOut, frames.ShapeSize).Should().Be((tiny.Seed, tiny.Data.Path, tiny.Data.Samples, tiny.Data.HeldOut, tiny.Data.ShapeSize));
        frames.Sizes.Should().Equal(tiny.Data.Sizes);
        frames.Lengths.Should().Equal(tiny.Data.Lengths);
    }

    [Fact]
    public void Values_override_the_presets()
    {
        var job = JobConfig.Parse("""
            name: demo
            seed: 7
            model:
              preset: bench
              depth: 2
              cross_attention: true
            train:
              steps: 30
              lr: 2.0e-4
              warmup_steps: 5
              ema_decay: 0.99
            data:
              sizes: [[32, 48]]
              lengths: [1, 16]
              shape_size: [0.4, 0.6]
              batching:
                mode: pack
                token_budget: 300
            """, "demo.yaml");
        job.Output.Should().Be("runs/demo");
        job.Seed.Should().Be(7);
        job.Model.Hidden.Should().Be(256);
        job.Model.Depth.Should().Be(2);
        job.Model.CrossAttention.Should().BeTrue();
        job.Training.Steps.Should().Be(30);
        job.Training.LearningRate.Should().Be(2e-4);
        job.Training.EmaDecay.Should().Be(0.99);
        job.Data.Sizes.Should().Equal((32, 48));
        job.Data.Lengths.Should().Equal(1, 16);
        job.Data.ShapeSize.Should().Be((0.4, 0.6));
        JobConfig.Parse("name: plain\n", "plain.yaml").Data.ShapeSize.Should().Be((0.2, 0.35), "the generator's own shape sizes are the default");
        job.Data.Batching.Mode.Should().Be(Sora.Data.Loading.BatchingMode.Pack);
        job.Data.Batching.TokenBudget.Should().Be(300);
        JobConfig.Parse("name: plain\n", "plain.yaml").Data.Batching.Mode.Should().Be(Sora.Data.Loading.BatchingMode.Bucket, "bucketing is the default");
        JobConfig.Parse("name: plain\n", "plain.yaml").Training.Trainer.ComputeDType.Should().BeNull("fp32 compute is the default");
        JobConfig.Parse("train:\n  mixed_precision: bf16\n", "mp.yaml").Training.Trainer.ComputeDType.Should().Be(Sora.Torch.ScalarType.BFloat16);
    }

    [Fact]
    public void The_device_is_auto_unless_the_job_names_cpu_or_cuda_in_any_case()
    {
        JobConfig.Parse("name: plain\n", "plain.yaml").Device.Should().Be(Sora.Distributed.Devices.DeviceSetting.Auto);
        JobConfig.Parse("device: CUDA\n", "gpu.yaml").Device.Should().Be(Sora.Distributed.Devices.DeviceSetting.Cuda);
        JobConfig.Parse("device: cpu\n", "cpu.yaml").Device.Should().Be(Sora.Distributed.Devices.DeviceSetting.Cpu);
    }

    [Fact]
    public void A_job_sent_with_another_device_says_so_in_its_text()
    {
        var job = JobConfig.Parse("name: demo\ndevice: cuda\ntrain:\n  steps: 7\n", "demo.yaml").WithDevice(Sora.Distributed.Devices.DeviceSetting.Cpu);
        job.Device.Should().Be(Sora.Distributed.Devices.DeviceSetting.Cpu);
        var sent = JobConfig.Parse(job.Source, "sent.yaml");
        sent.Device.Should().Be(Sora.Distributed.Devices.DeviceSetting.Cpu, "a worker reads its device from the text its agent is sent");
        sent.Training.Steps.Should().Be(7);
    }

    [Fact]
    public void A_job_sent_with_another_output_says_so_in_its_text_and_keeps_every_other_key()
    {
        var job = JobConfig.Parse("# the demo\nname: demo\noutput: runs/demo\ntrain:\n  steps: 7\n  batch_size: 4\n", "demo.yaml").WithOutput("/tmp/run: two");
        job.Output.Should().Be("/tmp/run: two");
        var sent = JobConfig.Parse(job.Source, "sent.yaml");
        sent.Output.Should().Be("/tmp/run: two", "an agent reads the output from the text it is sent");
        (sent.Name, sent.Training.Steps, sent.Training.BatchSize).Should().Be(("demo", 7L, 4));
        JobConfig.Parse("name: bare\n", "bare.yaml").WithOutput("elsewhere").Source.Should().Contain("output: \"elsewhere\"", "an absent key is added");
    }

    [Fact]
    public void A_parquet_source_reads_every_row_unless_samples_is_given_and_generates_only_when_asked()
    {
        var read = JobConfig.Parse("data:\n  source: parquet\n  path: clips/\n  held_out: 8\n", "job.yaml").Data;
        (read.Source, read.Path, read.Generate, read.Samples, read.HeldOut).Should().Be((DataSource.Parquet, "clips/", false, 0, 8));
        var generated = JobConfig.Parse("data:\n  source: parquet\n  path: d\n  generate: true\n  lengths: [8]\n", "job.yaml").Data;
        (generated.Generate, generated.Samples).Should().Be((true, new DataConfig().Samples));
        generated.Lengths.Should().Equal(8);
        JobConfig.Parse("name: plain\n", "plain.yaml").Data.Source.Should().Be(DataSource.Synthetic, "generated in memory is the default");
    }

    [Fact]
    public void Blob_locations_take_a_credential_and_a_cache_and_local_paths_take_neither()
    {
        var data = JobConfig.Parse("data:\n  source: parquet\n  path: az://datasets/moving/v1\n  credential: connection-string\n  cache: /tmp/shards\n", "job.yaml").Data;
        (data.IsBlob, data.Credential, data.Cache).Should().Be((true, Sora.Data.Storage.AzureCredentialKind.ConnectionString, "/tmp/shards"));
        var url = JobConfig.Parse("data:\n  source: parquet\n  path: https://acct.blob.core.windows.net/datasets/v1\n  credential: default\n", "job.yaml").Data;
        url.Credential.Should().Be(Sora.Data.Storage.AzureCredentialKind.Default);
        JobConfig.Parse("data:\n  source: parquet\n  path: clips\n", "job.yaml").Data.Credential.Should().Be(Sora.Data.Storage.AzureCredentialKind.Auto);

        var checkpoint = JobConfig.Parse("checkpoint:\n  store: https://acct.blob.core.windows.net/ckpt\n  credential: shared-key\n", "job.yaml").Checkpoint;
        (checkpoint.IsBlob, checkpoint.Credential, checkpoint.StoreOf("runs/x")).Should().Be((true, Sora.Data.Storage.AzureCredentialKind.SharedKey, "https://acct.blob.core.windows.net/ckpt"));
        JobConfig.Parse("checkpoint:\n  store: ckpt\n", "job.yaml").Checkpoint.StoreOf("runs/x").Should().Be(Path.GetFullPath("ckpt"));
    }

    [Theory]
    [InlineData("data:\n  source: parquet\n  path: clips\n  credential: sas\n", "job.yaml:4:15: data.credential: applies to a blob location*'clips' is a local path")]
    [InlineData("data:\n  source: parquet\n  path: az://d/x\n  credential: managed\n", "job.yaml:4:15: data.credential: must be one of auto, connection-string, default, shared-key, sas, anonymous (got 'managed')")]
    [InlineData("data:\n  source: parquet\n  path: az://datasets/x\n  credential: default\n", "job.yaml:4:15: data.credential: 'az://datasets/x': an az:// location takes its account from AZURE_STORAGE_CONNECTION_STRING*")]
    [InlineData("data:\n  source: parquet\n  path: https://a.blob.core.windows.net/datasets/x?sv=1&sig=SECRET\n  credential: connection-string\n", "job.yaml:4:15: data.credential: 'https://a.blob.core.windows.net/datasets/x': a connection string names its own account*")]
    [InlineData("data:\n  source: parquet\n  path: az://Bad_Name/x\n", "job.yaml:3:9: data.path: 'az://Bad_Name/x': invalid container name*")]
    [InlineData("data:\n  source: parquet\n  path: clips\n  cache: /tmp/c\n", "job.yaml:4:10: data.cache: caches shards of a blob data.path*'clips' is a local path")]
    [InlineData("data:\n  credential: sas\n", "job.yaml:2:15: data.credential: only applies to data.source: parquet")]
    [InlineData("checkpoint:\n  credential: default\n", "job.yaml:2:15: checkpoint.credential: applies to a blob location*(the default directory)*")]
    [InlineData("checkpoint:\n  store: az://Bad_Name/runs/a\n", "job.yaml:2:10: checkpoint.store: 'az://Bad_Name/runs/a': invalid container name*")]
    public void Storage_credential_mistakes_name_the_key_and_never_the_secret(string yaml, string expected)
    {
        var act = () => JobConfig.Parse(yaml, "job.yaml");
        act.Should().Throw<ConfigException>().WithMessage(expected).Which.Message.Should().NotContain("SECRET");
    }

    [Theory]
    [InlineData("train:\n  stepz: 3\n", "job.yaml:2:3: train.stepz: unknown key; train takes*steps*")]
    [InlineData("train:\n  steps: many\n", "job.yaml:2:10: train.steps: must be an integer (got 'many')")]
    [InlineData("train:\n  steps: 0\n", "job.yaml:2:10: train.steps: must be >= 1 (got 0)")]
    [InlineData("train:\n  steps: 10\n  warmup_steps: 20\n", "job.yaml:3:17: train.warmup_steps: must be in [0, 10] (got 20)")]
    [InlineData("model:\n  preset: huge\n", "job.yaml:2:11: model.preset: must be one of tiny, bench, dit-s, dit-b (got 'huge')")]
    [InlineData("model:\n  hidden: 100\n  heads: 3\n", "job.yaml: model.hidden: must be a positive multiple of heads*")]
    [InlineData("data:\n  sizes: [[32]]\n", "job.yaml:2:11: data.sizes[0]: must be a list of 2 integers")]
    [InlineData("data:\n  shape_size: [0.5, 0.4]\n", "job.yaml:2:15: data.shape_size: must be [min, max] with 0 < min <= max <= 0.6*")]
    [InlineData("data:\n  shape_size: [0.4, 0.7]\n", "job.yaml: data.shape_size[1]: must be a number in [0, 0.6] (got '0.7')")]
    [InlineData("data:\n  shape_size: [0.4]\n", "job.yaml:2:15: data.shape_size: must be [min, max]*")]
    [InlineData("data:\n  batching:\n    mode: stack\n", "job.yaml:3:11: data.batching.mode: must be one of bucket, pack (got 'stack')")]
    [InlineData("device: gpu\n", "job.yaml:1:9: device: must be one of auto, cpu, cuda (got 'gpu')")]
    [InlineData("train:\n  mixed_precision: fp8\n", "job.yaml:2:20: train.mixed_precision: must be one of none, bf16 (got 'fp8')")]
    [InlineData("vae:\n  train:\n    mixed_precision: bf16\n", "job.yaml:3:5: vae.train.mixed_precision: unknown key*")]
    [InlineData("flow:\n  caption_dropout: 2\n", "job.yaml:2:20: flow.caption_dropout: must be in [0, 1] (got 2)")]
    [InlineData("data:\n  source: parquet\n", "job.yaml: data.path: data.source: parquet needs data.path*sora data gen*")]
    [InlineData("data:\n  source: hdf5\n", "job.yaml:2:11: data.source: must be one of synthetic, parquet (got 'hdf5')")]
    [InlineData("data:\n  path: clips\n", "job.yaml:2:9: data.path: only applies to data.source: parquet")]
    [InlineData("data:\n  source: parquet\n  path: clips\n  sizes: [[32, 32]]\n", "job.yaml:4:10: data.sizes: describes generated clips*data.generate: true")]
    [InlineData("- a\n- b\n", "job.yaml: the job file must be a YAML mapping*")]
    [InlineData("train: [1\n", "job.yaml:*not valid YAML*")]
    public void Mistakes_are_reported_with_file_line_and_key(string yaml, string expected)
    {
        var act = () => JobConfig.Parse(yaml, "job.yaml");
        act.Should().Throw<ConfigException>().WithMessage(expected);
    }

    [Fact]
    public void A_missing_job_file_is_named()
    {
        var act = () => JobConfig.Load("/nonexistent/job.yaml");
        act.Should().Throw<ConfigException>().WithMessage("/nonexistent/job.yaml: job file not found");
    }
}
