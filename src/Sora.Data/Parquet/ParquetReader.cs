using System.Buffers.Binary;
using Sora.Data.Parquet.Encodings;
using Sora.Data.Parquet.Metadata;

namespace Sora.Data.Parquet;

/// <summary>
/// Reads a Parquet file: the footer on open, then one column chunk at a time on request (a seek and one read per
/// chunk), so memory follows the chunks asked for, never the file. Not thread-safe; open one reader per thread.
/// Every problem with the file's content throws <see cref="ParquetFormatException"/> naming the file, row group and column.
/// </summary>
public sealed class ParquetReader : IDisposable
{
    /// <summary>Largest footer accepted.</summary>
    public const int MaxFooterBytes = 64 << 20;

    private static ReadOnlySpan<byte> Magic => "PAR1"u8;

    private readonly Stream stream;
    private readonly bool leaveOpen;
    private readonly ByteBuffer chunk = new(1 << 16);
    private readonly ColumnChunkDecoder decoder = new();

    /// <summary>Reads the footer of <paramref name="stream"/> (which must be seekable); <paramref name="name"/> names it in errors.</summary>
    public ParquetReader(Stream stream, string? name = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead)
        {
            throw new ArgumentException("a Parquet reader needs a readable, seekable stream", nameof(stream));
        }

        this.stream = stream;
        this.leaveOpen = leaveOpen;
        Name = name ?? (stream as FileStream)?.Name ?? "(stream)";
        try
        {
            Metadata = ReadFooter();
        }
        catch (ParquetFormatException e)
        {
            Dispose();
            throw e.WithLocation(Name, null, null);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The file (or stream) name used in errors.</summary>
    public string Name { get; }

    public ParquetFileMetadata Metadata { get; }

    public ParquetSchema Schema => Metadata.Schema;

    public int RowGroupCount => Metadata.RowGroups.Count;

    public long NumRows => Metadata.NumRows;

    /// <summary>Opens <paramref name="path"/> for reading (sequential hint, shared read).</summary>
    public static ParquetReader Open(string path)
    {
        var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, BufferSize = 0, Options = FileOptions.SequentialScan });
        return new ParquetReader(stream, path);
    }

    public RowGroupMetadata RowGroup(int index) => Metadata.RowGroups[index];

    /// <summary>Reads column <paramref name="column"/> (a dotted path or single-leaf field name) of a row group into a new buffer.</summary>
    public ColumnBuffer ReadColumn(int rowGroup, string column)
    {
        var buffer = new ColumnBuffer();
        ReadColumn(rowGroup, Schema.Column(column), buffer);
        return buffer;
    }

    /// <summary>Reads one column chunk into <paramref name="into"/>, reusing its arrays (the fast path for repeated reads).</summary>
    public void ReadColumn(int rowGroup, ParquetColumn column, ColumnBuffer into)
    {
        ArgumentNullException.ThrowIfNull(column);
        ArgumentNullException.ThrowIfNull(into);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)rowGroup, (uint)RowGroupCount, nameof(rowGroup));
        if (column.Index >= Schema.Columns.Count || !ReferenceEquals(Schema.Columns[column.Index], column))
        {
            throw new ArgumentException($"column '{column.DottedPath}' is not from this file's schema", nameof(column));
        }

        var metadata = Metadata.RowGroups[rowGroup].Columns[column.Index];
        try
        {
            into.Reset(column);
            CheckChunkSize(metadata);
            var size = (int)metadata.TotalCompressedSize;
            var decoded = false;
            var copied = false;
            if (metadata.Codec == CompressionCodec.None && column.PhysicalType is PhysicalType.ByteArray or PhysicalType.FixedLenByteArray)
            {
                // Uncompressed binary: read the chunk into the buffer's store and use PLAIN values where they lie.
                ReadAt(metadata.StartOffset, into.AppendStore(size));
                decoded = decoder.Decode(into.StoreFrom(0), metadata, column, into, chunkInStore: true);
                if (!decoded)
                {
                    // It has a dictionary page (or values that must be rebuilt): decode from a separate copy instead.
                    into.StoreFrom(0).CopyTo(chunk.Reset(size));
                    into.Reset(column);
                    copied = true;
                }
            }

            if (!decoded)
            {
                if (!copied)
                {
                    ReadAt(metadata.StartOffset, chunk.Reset(size));
                }

                decoder.Decode(chunk.Written, metadata, column, into);
            }

            if (into.RowCount != Metadata.RowGroups[rowGroup].NumRows)
            {
                throw new ParquetFormatException($"the chunk holds {into.RowCount} rows but the row group has {Metadata.RowGroups[rowGroup].NumRows}");
            }
        }
        catch (ParquetFormatException e)
        {
            throw e.WithLocation(Name, rowGroup, column.DottedPath);
        }
    }

    public void Dispose()
    {
        chunk.Dispose();
        decoder.Dispose();
        if (!leaveOpen)
        {
            stream.Dispose();
        }
    }

    private static void CheckChunkSize(ColumnChunkMetadata metadata)
    {
        // The footer check guarantees the chunk lies inside the file's data.
        if (metadata.TotalCompressedSize > Array.MaxLength)
        {
            throw new ParquetFormatException($"the chunk's {metadata.TotalCompressedSize} bytes exceed the {Array.MaxLength} a chunk may have");
        }
    }

    private void ReadAt(long offset, Span<byte> target)
    {
        stream.Position = offset;
        ReadExactly(target, "column chunk");
    }

    private ParquetFileMetadata ReadFooter()
    {
        var length = stream.Length;
        if (length < 12)
        {
            throw new ParquetFormatException($"the file has {length} bytes, too few for a Parquet file (at least 12)");
        }

        Span<byte> head = stackalloc byte[4];
        stream.Position = 0;
        ReadExactly(head, "header");
        if (!head.SequenceEqual(Magic))
        {
            throw new ParquetFormatException($"the file does not start with PAR1 (found 0x{Convert.ToHexString(head)})");
        }

        Span<byte> tail = stackalloc byte[8];
        stream.Position = length - 8;
        ReadExactly(tail, "footer length");
        if (!tail[4..].SequenceEqual(Magic))
        {
            throw new ParquetFormatException($"the file does not end with PAR1 (found 0x{Convert.ToHexString(tail[4..])}); is it truncated?");
        }

        var footerLength = BinaryPrimitives.ReadInt32LittleEndian(tail);
        if (footerLength <= 0 || footerLength > length - 12 || footerLength > MaxFooterBytes)
        {
            throw new ParquetFormatException($"the footer length {footerLength} does not fit the file's {length} bytes (nor the {MaxFooterBytes} accepted)");
        }

        var footerStart = length - 8 - footerLength;
        var footer = chunk.Reset(footerLength);
        stream.Position = footerStart;
        ReadExactly(footer, "footer");
        return FooterCodec.Read(footer, footerStart);
    }

    private void ReadExactly(Span<byte> target, string what)
    {
        var total = 0;
        while (total < target.Length)
        {
            var read = stream.Read(target[total..]);
            if (read == 0)
            {
                throw new ParquetFormatException($"the file ends inside the {what} ({total} of {target.Length} bytes read)");
            }

            total += read;
        }
    }
}
