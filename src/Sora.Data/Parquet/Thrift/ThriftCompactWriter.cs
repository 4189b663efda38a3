using System.Text;

namespace Sora.Data.Parquet.Thrift;

/// <summary>Writes the Thrift compact protocol into a growing buffer.</summary>
internal sealed class ThriftCompactWriter
{
    private readonly Stack<short> savedFieldIds = new();
    private byte[] buffer = new byte[256];
    private int length;
    private short lastFieldId;

    public ReadOnlySpan<byte> Written => buffer.AsSpan(0, length);

    public void Clear()
    {
        length = 0;
        lastFieldId = 0;
        savedFieldIds.Clear();
    }

    public void BeginStruct()
    {
        savedFieldIds.Push(lastFieldId);
        lastFieldId = 0;
    }

    /// <summary>Writes the stop byte and returns to the enclosing struct.</summary>
    public void EndStruct()
    {
        WriteByte(0);
        lastFieldId = savedFieldIds.Pop();
    }

    public void StructField(short id)
    {
        FieldHeader(id, ThriftType.Struct);
        BeginStruct();
    }

    public void I32Field(short id, int value)
    {
        FieldHeader(id, ThriftType.I32);
        WriteVarint(ZigZag(value));
    }

    public void I64Field(short id, long value)
    {
        FieldHeader(id, ThriftType.I64);
        WriteVarint(ZigZag(value));
    }

    public void BoolField(short id, bool value) => FieldHeader(id, value ? ThriftType.BooleanTrue : ThriftType.BooleanFalse);

    public void BinaryField(short id, ReadOnlySpan<byte> value)
    {
        FieldHeader(id, ThriftType.Binary);
        WriteBinary(value);
    }

    public void StringField(short id, string value)
    {
        FieldHeader(id, ThriftType.Binary);
        WriteString(value);
    }

    /// <summary>A list field's header; write <paramref name="count"/> elements after it.</summary>
    public void ListField(short id, ThriftType elementType, int count)
    {
        FieldHeader(id, ThriftType.List);
        if (count < 15)
        {
            WriteByte((byte)((count << 4) | (int)elementType));
        }
        else
        {
            WriteByte((byte)(0xF0 | (int)elementType));
            WriteVarint((ulong)count);
        }
    }

    public void I32Element(int value) => WriteVarint(ZigZag(value));

    public void StringElement(string value) => WriteString(value);

    private void FieldHeader(short id, ThriftType type)
    {
        var delta = id - lastFieldId;
        if (delta is > 0 and <= 15)
        {
            WriteByte((byte)((delta << 4) | (int)type));
        }
        else
        {
            WriteByte((byte)type);
            WriteVarint(ZigZag(id));
        }

        lastFieldId = id;
    }

    private void WriteString(string value)
    {
        var byteCount = Encoding.UTF8.GetByteCount(value);
        WriteVarint((ulong)byteCount);
        Ensure(byteCount);
        length += Encoding.UTF8.GetBytes(value, buffer.AsSpan(length));
    }

    private void WriteBinary(ReadOnlySpan<byte> value)
    {
        WriteVarint((ulong)value.Length);
        Ensure(value.Length);
        value.CopyTo(buffer.AsSpan(length));
        length += value.Length;
    }

    private void WriteByte(byte value)
    {
        Ensure(1);
        buffer[length++] = value;
    }

    private void WriteVarint(ulong value)
    {
        Ensure(10);
        while (value >= 0x80)
        {
            buffer[length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[length++] = (byte)value;
    }

    private void Ensure(int extra)
    {
        if (length + extra > buffer.Length)
        {
            Array.Resize(ref buffer, Math.Max(buffer.Length * 2, length + extra));
        }
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));
}
