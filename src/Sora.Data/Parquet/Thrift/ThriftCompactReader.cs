using System.Text;

namespace Sora.Data.Parquet.Thrift;

/// <summary>
/// Reads the Thrift compact protocol from a span. Every length and count is checked against the bytes that remain
/// before anything is allocated, and nesting is limited, so hostile input fails with <see cref="ParquetFormatException"/>.
/// </summary>
internal ref struct ThriftCompactReader
{
    /// <summary>Deepest struct/list nesting accepted (Parquet metadata needs fewer than 10).</summary>
    public const int MaxDepth = 32;

    private readonly ReadOnlySpan<byte> data;
    private readonly string what;
    private int position;
    private short lastFieldId;
    private int depth;

    public ThriftCompactReader(ReadOnlySpan<byte> data, string what)
    {
        this.data = data;
        this.what = what;
    }

    public readonly int Position => position;

    public readonly int Remaining => data.Length - position;

    /// <summary>Enters a struct; pass the returned token to <see cref="EndStruct"/>.</summary>
    public short BeginStruct()
    {
        if (++depth > MaxDepth)
        {
            throw Fail($"nesting deeper than {MaxDepth}");
        }

        var saved = lastFieldId;
        lastFieldId = 0;
        return saved;
    }

    public void EndStruct(short saved)
    {
        depth--;
        lastFieldId = saved;
    }

    /// <summary>The next field's id and type, or false at the struct's end.</summary>
    public bool ReadFieldHeader(out short id, out ThriftType type)
    {
        var header = ReadByte();
        type = (ThriftType)(header & 0x0F);
        if (type == ThriftType.Stop)
        {
            id = 0;
            return false;
        }

        if (type > ThriftType.Struct)
        {
            throw Fail($"unknown field type {(int)type}");
        }

        var delta = header >> 4;
        var next = delta != 0 ? lastFieldId + delta : ZigZag(ReadVarint(5));
        if (next is < short.MinValue or > short.MaxValue)
        {
            throw Fail($"field id {next} is out of range");
        }

        id = (short)next;
        lastFieldId = id;
        return true;
    }

    public bool ReadBool(ThriftType type) => type switch
    {
        ThriftType.BooleanTrue => true,
        ThriftType.BooleanFalse => false,
        _ => throw Fail($"expected a boolean field, found {type}"),
    };

    public int ReadI32(ThriftType type)
    {
        Expect(type, ThriftType.I32, ThriftType.I16, ThriftType.Byte);
        if (type == ThriftType.Byte)
        {
            return (sbyte)ReadByte();
        }

        var value = ZigZag(ReadVarint(5));
        if (value is < int.MinValue or > int.MaxValue)
        {
            throw Fail($"32-bit integer out of range ({value})");
        }

        return (int)value;
    }

    public long ReadI64(ThriftType type)
    {
        Expect(type, ThriftType.I64, ThriftType.I32, ThriftType.I16);
        return ZigZag(ReadVarint(10));
    }

    /// <summary>A binary field's bytes, as a view into the input.</summary>
    public ReadOnlySpan<byte> ReadBinary(ThriftType type)
    {
        Expect(type, ThriftType.Binary);
        return ReadBinaryValue();
    }

    public string ReadString(ThriftType type) => Encoding.UTF8.GetString(ReadBinary(type));

    /// <summary>A list's element type and count; the count is checked against the bytes left (each element takes at least one byte).</summary>
    public int ReadListHeader(ThriftType type, out ThriftType elementType)
    {
        Expect(type, ThriftType.List, ThriftType.Set);
        var header = ReadByte();
        elementType = (ThriftType)(header & 0x0F);
        long count = header >> 4;
        if (count == 15)
        {
            count = (long)ReadVarint(5);
        }

        if (elementType is ThriftType.Stop or > ThriftType.Struct)
        {
            throw Fail($"unknown list element type {(int)elementType}");
        }

        if (count > Remaining)
        {
            throw Fail($"list of {count} elements in {Remaining} remaining bytes");
        }

        return (int)count;
    }

    /// <summary>Skips a value of <paramref name="type"/>, however nested.</summary>
    public void Skip(ThriftType type)
    {
        switch (type)
        {
            case ThriftType.BooleanTrue:
            case ThriftType.BooleanFalse:
                break;
            case ThriftType.Byte:
                ReadByte();
                break;
            case ThriftType.I16:
            case ThriftType.I32:
            case ThriftType.I64:
                ReadVarint(10);
                break;
            case ThriftType.Double:
                Take(8);
                break;
            case ThriftType.Binary:
                ReadBinaryValue();
                break;
            case ThriftType.List:
            case ThriftType.Set:
                SkipList(type);
                break;
            case ThriftType.Map:
                SkipMap();
                break;
            case ThriftType.Struct:
                var saved = BeginStruct();
                while (ReadFieldHeader(out _, out var fieldType))
                {
                    Skip(fieldType);
                }

                EndStruct(saved);
                break;
            default:
                throw Fail($"cannot skip a value of type {(int)type}");
        }
    }

    public readonly ParquetFormatException Fail(string problem) =>
        new($"corrupt {what} metadata at byte {position}: {problem}");

    private void SkipList(ThriftType type)
    {
        var count = ReadListHeader(type, out var elementType);
        if (++depth > MaxDepth)
        {
            throw Fail($"nesting deeper than {MaxDepth}");
        }

        for (var i = 0; i < count; i++)
        {
            // Booleans inside lists take a byte each.
            if (elementType is ThriftType.BooleanTrue or ThriftType.BooleanFalse)
            {
                ReadByte();
            }
            else
            {
                Skip(elementType);
            }
        }

        depth--;
    }

    private void SkipMap()
    {
        var count = (long)ReadVarint(5);
        if (count == 0)
        {
            return;
        }

        if (count > Remaining)
        {
            throw Fail($"map of {count} entries in {Remaining} remaining bytes");
        }

        var types = ReadByte();
        var keyType = (ThriftType)(types >> 4);
        var valueType = (ThriftType)(types & 0x0F);
        if (++depth > MaxDepth)
        {
            throw Fail($"nesting deeper than {MaxDepth}");
        }

        for (var i = 0; i < count; i++)
        {
            SkipElement(keyType);
            SkipElement(valueType);
        }

        depth--;
    }

    private void SkipElement(ThriftType type)
    {
        if (type is ThriftType.BooleanTrue or ThriftType.BooleanFalse)
        {
            ReadByte();
        }
        else if (type is ThriftType.Stop or > ThriftType.Struct)
        {
            throw Fail($"unknown element type {(int)type}");
        }
        else
        {
            Skip(type);
        }
    }

    private ReadOnlySpan<byte> ReadBinaryValue()
    {
        var length = ReadVarint(5);
        if (length > (ulong)Remaining)
        {
            throw Fail($"binary of {length} bytes in {Remaining} remaining bytes");
        }

        return Take((int)length);
    }

    private readonly void Expect(ThriftType actual, params ReadOnlySpan<ThriftType> allowed)
    {
        if (!allowed.Contains(actual))
        {
            throw Fail($"expected a field of type {allowed[0]}, found {actual}");
        }
    }

    private byte ReadByte()
    {
        if (position >= data.Length)
        {
            throw Fail("unexpected end of data");
        }

        return data[position++];
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > Remaining)
        {
            throw Fail($"needs {count} bytes, {Remaining} remain");
        }

        var slice = data.Slice(position, count);
        position += count;
        return slice;
    }

    private ulong ReadVarint(int maxBytes)
    {
        ulong result = 0;
        for (var i = 0; i < maxBytes; i++)
        {
            var b = ReadByte();
            result |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw Fail($"variable-length integer longer than {maxBytes} bytes");
    }

    private static long ZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);
}
