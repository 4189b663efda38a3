using System.Globalization;
using Parquet;
using Parquet.Schema;

namespace Sora.Data.Dataset;

/// <summary>
/// Writes <see cref="VideoSampleRecord"/>s into Parquet shards <c>part-00000.parquet</c>, <c>part-00001.parquet</c>, ...
/// through Parquet.Net: rows are buffered into row groups of <see cref="VideoShardWriterOptions.RowsPerRowGroup"/>,
/// and a new shard starts when the next row group would pass the byte or row limit. Shards go to a
/// <see cref="IShardSink"/> (a local directory by default), which publishes each one only once it is complete.
/// </summary>
public sealed class VideoShardWriter : IDisposable
{
    private readonly IShardSink sink;
    private readonly VideoShardWriterOptions options;
    private readonly List<VideoSampleRecord> buffered = [];
    private readonly List<VideoShard> shards = [];
    private readonly ParquetOptions parquet;
    private IShardSinkFile? currentFile;
    private ParquetWriter? current;
    private long currentRows;
    private int currentGroups;
    private double worstRatio;
    private bool completed;

    /// <summary>Creates <paramref name="directory"/> if needed; refuses one that already holds shards with the same prefix.</summary>
    public VideoShardWriter(string directory, VideoShardWriterOptions? options = null)
        : this(new DirectoryShardSink(directory, (options ?? new VideoShardWriterOptions()).Prefix), options)
    {
    }

    /// <summary>Writes shards into <paramref name="sink"/> (a directory, or a blob container).</summary>
    public VideoShardWriter(IShardSink sink, VideoShardWriterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sink);
        this.options = options ?? new VideoShardWriterOptions();
        this.options.Validate();
        this.sink = sink;
        parquet = new ParquetOptions { CompressionMethod = this.options.Compression, CompressionLevel = this.options.CompressionLevel };
    }

    /// <summary>Shards completed so far.</summary>
    public IReadOnlyList<VideoShard> Shards => shards;

    public long RowsWritten { get; private set; }

    /// <summary>Bytes in completed shards plus the one being written.</summary>
    public long BytesWritten => shards.Sum(s => s.Bytes) + (currentFile?.Stream.Position ?? 0);

    /// <summary>Adds one record (validated first: an inconsistent record throws <see cref="ArgumentException"/> and is not written).</summary>
    public void Write(VideoSampleRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        ObjectDisposedException.ThrowIf(completed, this);
        record.Validate();
        buffered.Add(record);
        RowsWritten++;
        // Rows that still fit in the current shard (a full shard is closed by the next flush, so a fresh one's room counts).
        var room = options.MaxRowsPerShard is { } maxRows ? (currentRows >= maxRows ? maxRows : maxRows - currentRows) : long.MaxValue;
        if (buffered.Count >= Math.Min(options.RowsPerRowGroup, room))
        {
            FlushRowGroup();
        }
    }

    /// <summary>Writes what is buffered and finishes the last shard; returns every shard.</summary>
    public IReadOnlyList<VideoShard> Complete()
    {
        if (!completed)
        {
            if (buffered.Count > 0)
            {
                FlushRowGroup();
            }

            CloseShard();
            completed = true;
        }

        return shards;
    }

    public void Dispose()
    {
        if (!completed)
        {
            Complete();
        }
    }

    private void FlushRowGroup()
    {
        var pending = buffered.Sum(r => r.Payload.LongLength + r.Caption.Length + r.Id.Length + r.Source.Length + ((r.TextEmbedding?.Length ?? 0) * 4L) + 64);
        if (current is not null)
        {
            var full = options.MaxRowsPerShard is { } maxRows && currentRows + buffered.Count > maxRows;
            if (options.MaxShardBytes is { } maxBytes && currentGroups > 0)
            {
                // Predict the row group's size from the worst compression ratio seen so far, plus the footer it will add to.
                var footer = 1024L + ((currentGroups + 1L) * VideoDatasetSchema.Schema.DataFields.Length * 64);
                full |= currentFile!.Stream.Position + (long)(pending * worstRatio) + footer > maxBytes;
            }

            if (full)
            {
                CloseShard();
            }
        }

        if (current is null)
        {
            currentFile = sink.Create(string.Create(CultureInfo.InvariantCulture, $"{options.Prefix}{shards.Count:D5}.parquet"));
            current = ParquetWriter.CreateAsync(VideoDatasetSchema.Schema, currentFile.Stream, parquet, append: false).GetAwaiter().GetResult();
        }

        var before = currentFile!.Stream.Position;
        WriteRowGroupAsync(current, buffered).GetAwaiter().GetResult();
        worstRatio = Math.Max(worstRatio, (double)(currentFile.Stream.Position - before) / pending);
        currentRows += buffered.Count;
        currentGroups++;
        buffered.Clear();
    }

    private static async Task WriteRowGroupAsync(ParquetWriter writer, List<VideoSampleRecord> rows)
    {
        var fields = VideoDatasetSchema.Leaves;
        using var group = writer.CreateRowGroup();
        await group.WriteAsync(fields[VideoDatasetSchema.Id], rows.Select(r => r.Id).ToArray(), null).ConfigureAwait(false);
        await group.WriteAsync(fields[VideoDatasetSchema.Caption], rows.Select(r => r.Caption).ToArray(), null).ConfigureAwait(false);
        await WriteEmbeddingsAsync(group, fields[VideoDatasetSchema.TextEmbedding], rows).ConfigureAwait(false);
        await group.WriteAsync(fields[VideoDatasetSchema.Kind], rows.Select(r => r.Kind.ToString().ToLowerInvariant()).ToArray(), null).ConfigureAwait(false);
        await group.WriteAsync<int>(fields[VideoDatasetSchema.Channels], rows.Select(r => r.Channels).ToArray(), null, null, CancellationToken.None).ConfigureAwait(false);
        await group.WriteAsync<int>(fields[VideoDatasetSchema.Frames], rows.Select(r => r.Frames).ToArray(), null, null, CancellationToken.None).ConfigureAwait(false);
        await group.WriteAsync<int>(fields[VideoDatasetSchema.Height], rows.Select(r => r.Height).ToArray(), null, null, CancellationToken.None).ConfigureAwait(false);
        await group.WriteAsync<int>(fields[VideoDatasetSchema.Width], rows.Select(r => r.Width).ToArray(), null, null, CancellationToken.None).ConfigureAwait(false);
        await group.WriteAsync<float>(fields[VideoDatasetSchema.Fps], rows.Select(r => r.Fps).ToArray(), null, null, CancellationToken.None).ConfigureAwait(false);
        await group.WriteAsync(fields[VideoDatasetSchema.DType], rows.Select(r => r.DType).ToArray(), null).ConfigureAwait(false);
        await group.WriteAsync(fields[VideoDatasetSchema.Payload], rows.Select(r => r.Payload).ToArray(), null).ConfigureAwait(false);
        await group.WriteAsync(fields[VideoDatasetSchema.Source], rows.Select(r => r.Source).ToArray(), null).ConfigureAwait(false);
    }

    /// <summary>The optional list column: definition level 0 for a null list, 1 for an empty one, 2 per element; repetition 1 continues a row's list.</summary>
    private static Task WriteEmbeddingsAsync(ParquetRowGroupWriter group, DataField field, List<VideoSampleRecord> rows)
    {
        var values = new List<float>();
        var definitions = new List<int>(rows.Count);
        var repetitions = new List<int>(rows.Count);
        foreach (var row in rows)
        {
            if (row.TextEmbedding is not { Length: > 0 } embedding)
            {
                definitions.Add(row.TextEmbedding is null ? 0 : 1);
                repetitions.Add(0);
                continue;
            }

            for (var i = 0; i < embedding.Length; i++)
            {
                values.Add(embedding[i]);
                definitions.Add(2);
                repetitions.Add(i == 0 ? 0 : 1);
            }
        }

        return group.WriteAllPartsAsync<float>(field, values.ToArray(), definitions.ToArray(), repetitions.ToArray(), CancellationToken.None);
    }

    private void CloseShard()
    {
        if (current is null)
        {
            return;
        }

        current.DisposeAsync().AsTask().GetAwaiter().GetResult();
        var bytes = currentFile!.Stream.Position;
        var name = currentFile.Publish();
        shards.Add(new VideoShard(name, currentRows, currentGroups, bytes));
        current = null;
        currentFile = null;
        currentRows = 0;
        currentGroups = 0;
    }
}
