using System.Buffers.Binary;
using Sora.Data.Parquet.Metadata;
using Sora.Data.Parquet.Thrift;

namespace Sora.Data.Parquet;

/// <summary>
/// Writes a Parquet file one row group at a time: each <see cref="WriteRowGroup"/> call takes one
/// <see cref="ColumnBuffer"/> per schema column and writes them straight to the stream; <see cref="Dispose"/> (or
/// <see cref="Complete"/>) writes the footer. The stream need not be seekable.
/// </summary>
public sealed class ParquetWriter : IDisposable
{
    private readonly Stream stream;
    private readonly bool leaveOpen;
    private readonly ParquetWriterOptions options;
    private readonly ColumnChunkWriter chunkWriter;
    private readonly List<RowGroupMetadata> rowGroups = [];
    private bool completed;

    public ParquetWriter(Stream stream, ParquetSchema schema, ParquetWriterOptions? options = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(schema);
        this.options = options ?? new ParquetWriterOptions();
        this.options.Validate();
        this.stream = stream;
        this.leaveOpen = leaveOpen;
        Schema = schema;
        chunkWriter = new ColumnChunkWriter(this.options);
        stream.Write("PAR1"u8);
        Position = 4;
    }

    public ParquetSchema Schema { get; }

    /// <summary>Bytes written so far (the file's size once complete).</summary>
    public long Position { get; private set; }

    public IReadOnlyList<RowGroupMetadata> RowGroups => rowGroups;

    public long RowCount { get; private set; }

    /// <summary>Creates (or overwrites) <paramref name="path"/>.</summary>
    public static ParquetWriter Create(string path, ParquetSchema schema, ParquetWriterOptions? options = null) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16), schema, options);

    /// <summary>New empty buffers, one per schema column, to fill with <c>Add</c> calls.</summary>
    public ColumnBuffer[] CreateBuffers() => Schema.Columns.Select(c => new ColumnBuffer(c)).ToArray();

    /// <summary>Writes one row group from one buffer per schema column (in schema order), all with the same number of rows.</summary>
    public RowGroupMetadata WriteRowGroup(params IReadOnlyList<ColumnBuffer> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ObjectDisposedException.ThrowIf(completed, this);
        if (columns.Count != Schema.Columns.Count)
        {
            throw new ArgumentException($"the schema has {Schema.Columns.Count} columns, got {columns.Count} buffers", nameof(columns));
        }

        var rows = columns[0].RowCount;
        for (var i = 0; i < columns.Count; i++)
        {
            var column = columns[i].Column;
            if (column is null || column.DottedPath != Schema.Columns[i].DottedPath || column.PhysicalType != Schema.Columns[i].PhysicalType
                || column.MaxDefinitionLevel != Schema.Columns[i].MaxDefinitionLevel || column.MaxRepetitionLevel != Schema.Columns[i].MaxRepetitionLevel)
            {
                throw new ArgumentException($"buffer {i} is for '{column?.DottedPath}', not for the schema's column {Schema.Columns[i]}", nameof(columns));
            }

            if (columns[i].RowCount != rows)
            {
                throw new ArgumentException($"column '{column.DottedPath}' has {columns[i].RowCount} rows where '{columns[0].Column!.DottedPath}' has {rows}", nameof(columns));
            }
        }

        if (rows == 0)
        {
            throw new ArgumentException("a row group needs at least one row", nameof(columns));
        }

        var chunks = new List<ColumnChunkMetadata>(columns.Count);
        foreach (var column in columns)
        {
            var chunk = chunkWriter.Write(stream, Position, column);
            Position += chunk.TotalCompressedSize;
            chunks.Add(chunk);
        }

        var group = new RowGroupMetadata { NumRows = rows, TotalByteSize = chunks.Sum(c => c.TotalUncompressedSize), Columns = chunks };
        rowGroups.Add(group);
        RowCount += rows;
        return group;
    }

    /// <summary>Writes the footer; the file is complete and no more row groups can be written.</summary>
    public void Complete()
    {
        if (completed)
        {
            return;
        }

        completed = true;
        var metadata = new ParquetFileMetadata
        {
            Version = 1,
            Schema = Schema,
            NumRows = RowCount,
            RowGroups = rowGroups,
            KeyValues = options.KeyValues,
            CreatedBy = options.CreatedBy,
        };
        var thrift = new ThriftCompactWriter();
        FooterCodec.Write(thrift, metadata);
        stream.Write(thrift.Written);
        Span<byte> tail = stackalloc byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(tail, thrift.Written.Length);
        "PAR1"u8.CopyTo(tail[4..]);
        stream.Write(tail);
        Position += thrift.Written.Length + 8;
        stream.Flush();
    }

    public void Dispose()
    {
        try
        {
            Complete();
        }
        finally
        {
            chunkWriter.Dispose();
            if (!leaveOpen)
            {
                stream.Dispose();
            }
        }
    }
}
