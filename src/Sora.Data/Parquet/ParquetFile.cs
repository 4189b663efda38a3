using System.Runtime.ExceptionServices;
using Parquet;
using Parquet.Meta;
using Parquet.Schema;

namespace Sora.Data.Parquet;

/// <summary>
/// A Parquet file read through Parquet.Net, behind the one narrow interface the dataset code uses: the footer
/// (schema, row groups, statistics) and one column chunk at a time (column projection, row-group streaming).
/// Whatever the library throws on a malformed file (its own exceptions, but also NullReferenceException,
/// IndexOutOfRangeException and the like) becomes a <see cref="ParquetFormatException"/> naming the file, row
/// group and column; a failure of the source itself (a disk or network error) is rethrown as it was.
/// </summary>
public sealed class ParquetFile : IDisposable
{
    /// <summary>Bytes at the end of a file fetched at once when it is opened over a ranged source (footers are usually smaller).</summary>
    private const int FooterReadAhead = 64 << 10;

    private readonly SourceStream _source;
    private readonly ParquetReader _reader;

    private ParquetFile(string name, SourceStream source, ParquetReader reader)
    {
        Name = name;
        _source = source;
        _reader = reader;
        Schema = reader.Schema;
        Metadata = reader.Metadata ?? throw ParquetFormatException.At(name, null, null, "the footer holds no file metadata");
        var rows = new long[reader.RowGroupCount];
        for (var group = 0; group < rows.Length; group++)
        {
            rows[group] = Metadata.RowGroups.Count > group ? Metadata.RowGroups[group].NumRows : throw ParquetFormatException.At(name, group, null, "the footer lists fewer row groups than the reader found");
            if (rows[group] < 0)
            {
                throw ParquetFormatException.At(name, group, null, $"the footer gives {rows[group]} rows");
            }
        }

        RowGroupRows = rows;
    }

    /// <summary>The file (or blob) name errors name.</summary>
    public string Name { get; }

    /// <summary>The file's schema.</summary>
    public ParquetSchema Schema { get; }

    /// <summary>The footer: row groups, column chunks with their codecs, encodings and statistics, the writer.</summary>
    public FileMetaData Metadata { get; }

    /// <summary>Rows per row group.</summary>
    public IReadOnlyList<long> RowGroupRows { get; }

    public int RowGroupCount => RowGroupRows.Count;

    public long NumRows => RowGroupRows.Sum();

    /// <summary>Opens a file on disk.</summary>
    public static ParquetFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Open(File.OpenRead(path), path, leaveOpen: false);
    }

    /// <summary>Opens a readable, seekable stream (a file, a buffer, or a blob read by ranges).</summary>
    public static ParquetFile Open(Stream stream, string name, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var source = new SourceStream(stream, leaveOpen);
        try
        {
            // The footer and its length sit at the end: one range for both in the common case.
            source.Hint?.WillRead(Math.Max(0, stream.Length - FooterReadAhead), Math.Min(stream.Length, FooterReadAhead));
            Guard(source, name, null, null, () =>
            {
                FooterCheck.Run(source);
                return true;
            });
            var reader = Guard(source, name, null, null, () => ParquetReader.CreateAsync(source, new ParquetOptions(), leaveStreamOpen: true).GetAwaiter().GetResult());
            try
            {
                return Guard(source, name, null, null, () => new ParquetFile(name, source, reader));
            }
            catch
            {
                reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>The leaf field of a top-level column: the column itself, or a list's element. Null when there is none.</summary>
    public DataField? FindField(string topLevelName) => Schema.Fields.FirstOrDefault(f => f.Name == topLevelName) switch
    {
        DataField data => data,
        ListField { Item: DataField element } => element,
        _ => null,
    };

    /// <summary>The top-level column a leaf belongs to (its first path segment; "(unnamed)" for a corrupt empty name).</summary>
    public static string TopLevelName(DataField field) =>
        (field ?? throw new ArgumentNullException(nameof(field))).Path.FirstPart is { Length: > 0 } first ? first : "(unnamed)";

    /// <summary>Decodes one column chunk of one row group (only that chunk's pages are read).</summary>
    public ColumnValues ReadColumn(int rowGroup, DataField field)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentOutOfRangeException.ThrowIfNegative(rowGroup);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rowGroup, RowGroupCount);
        var column = TopLevelName(field);
        return Guard(_source, Name, rowGroup, column, () =>
        {
            using var group = _reader.OpenRowGroupReader(rowGroup);
            if (_source.Hint is { } hint && group.GetMetadata(field)?.MetaData is { } chunk)
            {
                var start = chunk.DictionaryPageOffset is > 0 and var dictionary && dictionary < chunk.DataPageOffset ? dictionary : chunk.DataPageOffset;
                hint.WillRead(start, chunk.TotalCompressedSize);
            }

            var raw = group.ReadRawColumnDataBaseAsync(field, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            var values = ColumnValues.From(column, field, raw, RowGroupRows[rowGroup]);
            if (values.Values is not ReadOnlyMemory<byte>[])
            {
                // Binary values still point into raw's buffers (see ColumnValues.From); everything else was copied out.
                raw.Dispose();
            }

            return values;
        });
    }

    /// <summary>The column chunk's metadata (codec, encodings, sizes, statistics).</summary>
    public ColumnMetaData ChunkMetadata(int rowGroup, DataField field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return Guard(_source, Name, rowGroup, TopLevelName(field), () =>
        {
            using var group = _reader.OpenRowGroupReader(rowGroup);
            return group.GetMetadata(field)?.MetaData ?? throw new InvalidDataException("the column chunk has no metadata");
        });
    }

    public void Dispose()
    {
        _reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _source.Dispose();
    }

    private static T Guard<T>(SourceStream source, string file, int? rowGroup, string? column, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (ParquetFormatException e)
        {
            throw e.WithLocation(file, rowGroup, column);
        }
        catch (Exception) when (source.Failure is { } failure)
        {
            // The disk or the network failed, not the file's format: the caller sees that error as it was.
            source.Failure = null;
            failure.Throw();
            throw;
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
        {
            var problem = e is ParquetException or InvalidDataException or NotSupportedException or EndOfStreamException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            throw ParquetFormatException.At(file, rowGroup, column, problem, e);
        }
    }

    /// <summary>Passes reads through and remembers a failure of the source, so it is not mistaken for a format error.</summary>
    private sealed class SourceStream(Stream inner, bool leaveOpen) : Stream
    {
        public ExceptionDispatchInfo? Failure { get; set; }

        /// <summary>The source's range hints, when it takes them.</summary>
        public IRangeHint? Hint => inner as IRangeHint;

        public override bool CanRead => true;

        public override bool CanSeek => inner.CanSeek;

        public override bool CanWrite => false;

        public override long Length => Pass(() => inner.Length);

        public override long Position
        {
            get => inner.Position;
            set => Seek(value, SeekOrigin.Begin);
        }

        public override int Read(byte[] buffer, int offset, int count) => Pass(() => inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return inner.Read(buffer);
            }
            catch (Exception e) when (Remember(e))
            {
                throw;
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (Remember(e))
            {
                throw;
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin)
        {
            // A corrupt offset can point before the start: that is the file's fault, not the source's.
            var target = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => inner.Position + offset,
                _ => Length + offset,
            };
            return target < 0 ? throw new InvalidDataException($"an offset points {-target} bytes before the start of the file") : Pass(() => inner.Seek(target, SeekOrigin.Begin));
        }

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && !leaveOpen)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private T Pass<T>(Func<T> call)
        {
            try
            {
                return call();
            }
            catch (Exception e) when (Remember(e))
            {
                throw;
            }
        }

        private bool Remember(Exception e)
        {
            Failure = ExceptionDispatchInfo.Capture(e);
            return false;
        }
    }
}
