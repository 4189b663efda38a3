using System.Globalization;

namespace Sora.Tools;

/// <summary>
/// The smallest real job: the tiny video VAE and DiT on 48 clips of 32×32×8, two threads, no samples. The tests that run
/// <c>sora</c> end to end and the cluster benchmarks (<c>sora bench recovery</c>, <c>goodput</c>) all start from it and add
/// what they are about (output, checkpoint and fault keys) as <c>extraYaml</c>.
/// </summary>
internal static class TinyJob
{
    /// <summary>The job's YAML; <paramref name="dataset"/> is a Parquet dataset generated on the first run at that path (null: clips made in memory).</summary>
    public static string Yaml(int ditSteps, int vaeSteps = 10, int vaeBatchSize = 4, int ditBatchSize = 8, string? dataset = null, string name = "launch-test", int seed = 3,
        string? extraYaml = null)
    {
        var source = dataset is null ? "source: synthetic" : $"source: parquet\n  path: {dataset}\n  generate: true";
        return string.Create(CultureInfo.InvariantCulture, $"""
            name: {name}
            seed: {seed}
            threads: 2
            data:
              {source}
              samples: 48
              held_out: 4
              sizes: [[32, 32]]
              lengths: [8]
            vae:
              preset: patch
              train:
                steps: {vaeSteps}
                batch_size: {vaeBatchSize}
                lr: 2.0e-3
                warmup_steps: 2
            model:
              preset: tiny
            train:
              steps: {ditSteps}
              batch_size: {ditBatchSize}
              lr: 1.0e-3
              warmup_steps: 2
              ema_decay: 0.99
            sampling:
              prompts: []
            """) + (extraYaml is null ? "" : "\n" + extraYaml);
    }
}
