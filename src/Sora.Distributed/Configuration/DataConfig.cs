using Sora.Data.Loading;
using Sora.Data.Synthetic;
using Sora.Data.Storage;

namespace Sora.Distributed.Configuration;

/// <summary>Where a job's clips come from (<c>data.source</c>).</summary>
public enum DataSource
{
    /// <summary>The moving-shapes generator, in memory.</summary>
    Synthetic,

    /// <summary>A Parquet video dataset (<c>sora data gen</c> or <c>sora data import</c>): pixel shards under <c>data.path</c>.</summary>
    Parquet,
}

/// <summary>The clips a job trains on (<c>data:</c>): generated moving shapes, or a Parquet pixel dataset.</summary>
public sealed record DataConfig
{
    public DataSource Source { get; init; } = DataSource.Synthetic;

    /// <summary>
    /// Parquet: a shard file or a directory of <c>*.parquet</c> shards (relative paths from the working directory), or
    /// a blob location (<c>az://container/prefix</c>, or the container's URL; see <see cref="AzureBlobLocation"/>).
    /// </summary>
    public string? Path { get; init; }

    /// <summary>How a blob <see cref="Path"/> is authorized (<c>data.credential</c>).</summary>
    public AzureCredentialKind Credential { get; init; } = AzureCredentialKind.Auto;

    /// <summary>A blob <see cref="Path"/>: a local directory that keeps each shard once read (<c>data.cache</c>); null: none.</summary>
    public string? Cache { get; init; }

    /// <summary><see cref="Path"/> as messages show it: a blob location without its SAS query.</summary>
    public string? DisplayPath => IsBlob ? AzureBlobLocation.Parse(Path!, Credential).Text : Path;

    /// <summary>Whether <see cref="Path"/> names blob storage.</summary>
    public bool IsBlob => AzureBlobLocation.IsBlobLocation(Path);

    /// <summary>Where the Parquet shards are read from.</summary>
    public IShardSource OpenSource() => ShardStorage.OpenSource(Path ?? throw new InvalidOperationException("data.path is not set"), Credential, Cache);

    /// <summary>
    /// Parquet: when <see cref="Path"/> holds no shards yet, write the synthetic dataset there first (<see cref="Samples"/>
    /// + <see cref="HeldOut"/> clips of <see cref="Sizes"/> × <see cref="Lengths"/>, with the job's seed).
    /// </summary>
    public bool Generate { get; init; }

    /// <summary>Training clips: generated (synthetic), or read from the dataset's start (Parquet; 0 = all but the held-out ones).</summary>
    public int Samples { get; init; } = 2048;

    /// <summary>Clips kept apart for the held-out loss: generated after the training clips, or the dataset's last rows.</summary>
    public int HeldOut { get; init; } = 32;

    /// <summary>Generated frame sizes as (height, width).</summary>
    public IReadOnlyList<(int Height, int Width)> Sizes { get; init; } = [(32, 32)];

    /// <summary>Generated clip lengths in frames (1 = images).</summary>
    public IReadOnlyList<int> Lengths { get; init; } = [1, 8];

    /// <summary>
    /// Generated shapes' smallest and largest bounding-box side, as fractions of the frame's shorter side
    /// (<c>data.shape_size: [min, max]</c>).
    /// </summary>
    public (double Min, double Max) ShapeSize { get; init; } = (MovingShapesOptions.Default.MinShapeFraction, MovingShapesOptions.Default.MaxShapeFraction);

    /// <summary>How the DiT's batches are formed (<c>data.batching</c>): buckets of one shape, or Patch n' Pack.</summary>
    public BatchingOptions Batching { get; init; } = new();

    public static DataConfig Read(YamlSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var defaults = new DataConfig();
        var source = section.Choice("source", "synthetic", "synthetic", "parquet") == "parquet" ? DataSource.Parquet : DataSource.Synthetic;
        string? path = null;
        var generate = false;
        var credential = AzureCredentialKind.Auto;
        string? cache = null;
        if (source == DataSource.Parquet)
        {
            path = section.OptionalString("path");
            if (string.IsNullOrWhiteSpace(path))
            {
                throw section.Invalid("path", "data.source: parquet needs data.path, a Parquet shard or a directory of shards (write one with `sora data gen` or `sora data import`)");
            }

            generate = section.Bool("generate", false);
            credential = StorageCredential.Read(section, "credential", "path", path);
            cache = section.OptionalString("cache");
            if (!AzureBlobLocation.IsBlobLocation(path) && cache is not null)
            {
                throw section.Invalid("cache", $"caches shards of a blob data.path (az://... or https://...); '{path}' is a local path");
            }
        }
        else
        {
            foreach (var key in new[] { "path", "generate", "credential", "cache" })
            {
                if (section.Has(key))
                {
                    throw section.Invalid(key, "only applies to data.source: parquet");
                }
            }
        }

        var generated = source == DataSource.Synthetic || generate;
        if (!generated)
        {
            foreach (var key in new[] { "sizes", "lengths", "shape_size" })
            {
                if (section.Has(key))
                {
                    throw section.Invalid(key, "describes generated clips: it applies to data.source: synthetic, or parquet with data.generate: true");
                }
            }
        }

        return new DataConfig
        {
            Source = source,
            Path = path,
            Credential = credential,
            Cache = cache,
            Generate = generate,
            Samples = section.Int("samples", generated ? defaults.Samples : 0, min: generated ? 1 : 0),
            HeldOut = section.Int("held_out", defaults.HeldOut, min: 1),
            Sizes = section.IntLists("sizes", defaults.Sizes.Select(s => new[] { s.Height, s.Width }).ToArray(), length: 2, min: 4)
                .Select(s => (s[0], s[1])).ToArray(),
            Lengths = section.Ints("lengths", defaults.Lengths.ToArray(), min: 1),
            ShapeSize = ReadShapeSize(section, defaults.ShapeSize),
            Batching = ReadBatching(section.Section("batching")),
        };
    }

    private static (double Min, double Max) ReadShapeSize(YamlSection section, (double Min, double Max) fallback)
    {
        var values = section.Doubles("shape_size", [fallback.Min, fallback.Max], min: 0, max: MovingShapesOptions.LargestShapeFraction);
        if (values.Length != 2 || values[0] <= 0 || values[0] > values[1])
        {
            throw section.Invalid("shape_size", $"must be [min, max] with 0 < min <= max <= {MovingShapesOptions.LargestShapeFraction}: the shape's side as fractions of the frame's shorter side");
        }

        return (values[0], values[1]);
    }

    private static BatchingOptions ReadBatching(YamlSection section)
    {
        var defaults = new BatchingOptions();
        var mode = section.Choice("mode", "bucket", "bucket", "pack");
        return new BatchingOptions
        {
            Mode = mode == "pack" ? BatchingMode.Pack : BatchingMode.Bucket,
            TokenBudget = section.Int("token_budget", defaults.TokenBudget, min: 1),
        }.Validate();
    }
}
