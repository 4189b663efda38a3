using System.Globalization;
using Sora.Data.Parquet;

namespace Sora.Data.Dataset;

/// <summary>
/// Writes <see cref="VideoSampleRecord"/>s into Parquet shards <c>part-00000.parquet</c>, <c>part-00001.parquet</c>, ...
/// in one directory: rows are buffered into row groups of <see cref="VideoShardWriterOptions.RowsPerRowGroup"/>, and a
/// new shard starts when the next row group would pass the byte or row limit. Each shard is written under a
/// <c>.tmp</c> name and renamed when complete, so a reader never sees half a shard.
/// </summary>
public sealed class VideoShardWriter : IDisposable
{
    private readonly string directory;
    private readonly VideoShardWriterOptions options;
    private readonly ColumnBuffer[] buffers;
    private readonly List<VideoShard> shards = [];
    private ParquetWriter? current;
    private string? currentPath;
    private double worstRatio;
    private int bufferedRows;
    private bool completed;

    /// <summary>Creates <paramref name="directory"/> if needed; refuses one that already holds shards with the same prefix.</summary>
    public VideoShardWriter(string directory, VideoShardWriterOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        this.options = options ?? new VideoShardWriterOptions();
        this.options.Validate();
        Directory.CreateDirectory(directory);
        var existing = Directory.EnumerateFiles(directory, $"{this.options.Prefix}*.parquet").FirstOrDefault();
        if (existing is not null)
        {
            throw new IOException($"'{directory}' already holds shards ({Path.GetFileName(existing)}); write a dataset into an empty directory");
        }

        this.directory = directory;
        buffers = VideoDatasetSchema.Schema.Columns.Select(c => new ColumnBuffer(c)).ToArray();
    }

    /// <summary>Shards completed so far.</summary>
    public IReadOnlyList<VideoShard> Shards => shards;

    public long RowsWritten { get; private set; }

    /// <summary>Bytes in completed shards plus the one being written.</summary>
    public long BytesWritten => shards.Sum(s => s.Bytes) + (current?.Position ?? 0);

    /// <summary>Adds one record (validated first: an inconsistent record throws <see cref="ArgumentException"/> and is not written).</summary>
    public void Write(VideoSampleRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        ObjectDisposedException.ThrowIf(completed, this);
        record.Validate();
        buffers[0].Add(record.Id);
        buffers[1].Add(record.Caption);
        if (record.TextEmbedding is { } embedding)
        {
            buffers[2].AddList<float>(embedding);
        }
        else
        {
            buffers[2].AddNull();
        }

        buffers[3].Add(record.Kind.ToString().ToLowerInvariant());
        buffers[4].Add(record.Channels);
        buffers[5].Add(record.Frames);
        buffers[6].Add(record.Height);
        buffers[7].Add(record.Width);
        buffers[8].Add(record.Fps);
        buffers[9].Add(record.DType);
        buffers[10].Add(record.Payload);
        buffers[11].Add(record.Source);
        bufferedRows++;
        RowsWritten++;
        // Rows that still fit in the current shard (a full shard is closed by the next flush, so a fresh one's room counts).
        var shardRows = current?.RowCount ?? 0;
        var room = options.MaxRowsPerShard is { } maxRows ? (shardRows >= maxRows ? maxRows : maxRows - shardRows) : long.MaxValue;
        if (bufferedRows >= Math.Min(options.RowsPerRowGroup, room))
        {
            FlushRowGroup();
        }
    }

    /// <summary>Writes what is buffered and finishes the last shard; returns every shard.</summary>
    public IReadOnlyList<VideoShard> Complete()
    {
        if (!completed)
        {
            if (bufferedRows > 0)
            {
                FlushRowGroup();
            }

            CloseShard();
            completed = true;
            foreach (var buffer in buffers)
            {
                buffer.Dispose();
            }
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
        if (current is not null)
        {
            var full = options.MaxRowsPerShard is { } maxRows && current.RowCount + bufferedRows > maxRows;
            if (options.MaxShardBytes is { } maxBytes && current.RowGroups.Count > 0)
            {
                // Predict the row group's size from the worst compression ratio seen so far, plus the footer it will add to.
                var pending = buffers.Sum(b => b.TotalBinaryBytes + (b.ValueCount * 8L));
                var footer = 1024L + ((current.RowGroups.Count + 1L) * buffers.Length * 64);
                full |= current.Position + (long)(pending * worstRatio) + footer > maxBytes;
            }

            if (full)
            {
                CloseShard();
            }
        }

        if (current is null)
        {
            currentPath = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{options.Prefix}{shards.Count:D5}.parquet"));
            current = ParquetWriter.Create(currentPath + ".tmp", VideoDatasetSchema.Schema, options.Parquet);
        }

        var group = current.WriteRowGroup(buffers);
        if (group.TotalByteSize > 0)
        {
            worstRatio = Math.Max(worstRatio, (double)group.TotalCompressedSize / group.TotalByteSize);
        }

        bufferedRows = 0;
        for (var i = 0; i < buffers.Length; i++)
        {
            buffers[i].Reset(VideoDatasetSchema.Schema.Columns[i]);
        }
    }

    private void CloseShard()
    {
        if (current is null)
        {
            return;
        }

        current.Dispose();
        File.Move(currentPath + ".tmp", currentPath!, overwrite: false);
        shards.Add(new VideoShard(currentPath!, current.RowCount, current.RowGroups.Count, current.Position));
        current = null;
        currentPath = null;
    }
}
