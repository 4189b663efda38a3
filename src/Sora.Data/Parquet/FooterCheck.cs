using System.Buffers.Binary;
using System.Reflection;
using Parquet.Meta;

namespace Sora.Data.Parquet;

/// <summary>
/// Parses a file's footer once, before Parquet.Net opens the file, with Parquet.Net's own footer parser reading from a
/// buffer that throws at its end. Parquet.Net 6.1 reads past the end of a corrupt footer as an endless run of 0xFF
/// bytes, so a varint that runs off the end never terminates (a footer whose last byte was flipped hung the fuzz
/// test): here that becomes an error instead. The parser is internal to Parquet.Net, hence the reflection; a
/// Parquet.Net upgrade that renames it fails every read with a message saying so, and the fuzz test catches it.
/// </summary>
internal static class FooterCheck
{
    private static readonly System.Type? ReaderType = typeof(FileMetaData).Assembly.GetType("Parquet.Meta.Proto.ThriftCompactProtocolReader");
    private static readonly ConstructorInfo? CreateReader = ReaderType?.GetConstructor([typeof(Stream)]);
    private static readonly MethodInfo? ReadFooter = ReaderType is null ? null : typeof(FileMetaData).GetMethod("Read", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, [ReaderType]);

    /// <summary>Throws <see cref="InvalidDataException"/> unless the file ends with a footer that parses within its own bytes.</summary>
    public static void Run(Stream file)
    {
        if (CreateReader is null || ReadFooter is null)
        {
            throw new InvalidOperationException("Parquet.Net's footer parser (Parquet.Meta.Proto.ThriftCompactProtocolReader) was not found: the footer check needs updating for this Parquet.Net version");
        }

        var length = file.Length;
        if (length < 12)
        {
            throw new InvalidDataException($"the file is {length} bytes long, too short for Parquet (magic, footer, footer length, magic)");
        }

        Span<byte> tail = stackalloc byte[8];
        file.Seek(-8, SeekOrigin.End);
        file.ReadExactly(tail);
        if (!tail[4..].SequenceEqual("PAR1"u8))
        {
            throw new InvalidDataException("the file does not end with PAR1 (not Parquet, or truncated)");
        }

        var footerLength = BinaryPrimitives.ReadInt32LittleEndian(tail);
        if (footerLength <= 0 || footerLength > length - 12)
        {
            throw new InvalidDataException($"the footer length {footerLength} does not fit the file's {length} bytes");
        }

        var footer = new byte[footerLength];
        file.Seek(-8 - footerLength, SeekOrigin.End);
        file.ReadExactly(footer);
        file.Seek(0, SeekOrigin.Begin);
        try
        {
            ReadFooter.Invoke(null, [CreateReader.Invoke([new EndingStream(footer)])]);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw new InvalidDataException($"the footer does not parse: {e.InnerException.Message}", e.InnerException);
        }
    }

    /// <summary>A buffer that throws when read past its end, where Parquet.Net would otherwise read 0xFF forever.</summary>
    private sealed class EndingStream(byte[] bytes) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => bytes.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int ReadByte() => _position < bytes.Length ? bytes[_position++] : throw Ended();

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (buffer.Length == 0)
            {
                return 0;
            }

            var count = Math.Min(buffer.Length, bytes.Length - _position);
            if (count <= 0)
            {
                throw Ended();
            }

            bytes.AsSpan(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private static EndOfStreamException Ended() => new("the footer ends inside a value");
    }
}
