using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sora.Torch;

namespace Sora.Checkpoint.Formats;

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
/// mapping each name to its dtype, shape and [begin, end) byte range, then the raw little-endian data.
/// Files are written to a temporary name, flushed to disk, then renamed, so a crash never leaves a
/// half-written file under the final name. Every header field is checked on read; errors name the file
/// and the tensor.
/// </summary>
public static class SafeTensorsFile
{
    private const long MaxHeaderBytes = 100L << 20;

    /// <summary>Writes tensors (CPU copies are made as needed) and optional string metadata.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToArray();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                meta[key] = value;
            }

            header["__metadata__"] = meta;
        }

        long offset = 0;
        foreach (var name in names)
        {
            if (name.Length == 0 || name == "__metadata__")
            {
                throw new ArgumentException($"'{name}' cannot name a tensor in a safetensors file", nameof(tensors));
            }

            var tensor = tensors[name];
            var bytes = tensor.ByteCount;
            header[name] = new JsonObject
            {
                ["dtype"] = DTypeName(tensor.DType, name),
                ["shape"] = new JsonArray(tensor.Shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }

        var json = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8;
        var temporary = path + ".tmp-" + Environment.ProcessId;
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(json);
            for (var i = json.Length; i < padded; i++)
            {
                stream.WriteByte((byte)' ');
            }

            foreach (var name in names)
            {
                var tensor = tensors[name];
                var data = new byte[tensor.ByteCount];
                using (var scope = Tensor.NewDisposeScope())
                {
                    // Row-major bytes of any layout or device; bool and 16-bit types go through their raw bytes.
                    tensor.To(Device.Cpu).Contiguous().CopyBytesTo(data);
                }

                stream.Write(data);
            }

            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads every tensor (as new CPU tensors the caller owns) and the metadata.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw new InvalidDataException($"{path}: {fileLength} bytes is too short for a safetensors file");
        }

        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)Math.Min(MaxHeaderBytes, fileLength - 8))
        {
            throw new InvalidDataException($"{path}: header length {headerLength} runs past the end of the file ({fileLength} bytes)");
        }

        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        JsonObject header;
        try
        {
            header = JsonNode.Parse(headerBytes)?.AsObject() ?? throw new InvalidDataException($"{path}: the header is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the header is not valid JSON: {e.Message}", e);
        }

        var dataStart = 8 + (long)headerLength;
        var dataLength = fileLength - dataStart;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<(string Name, ScalarType DType, long[] Shape, long Begin, long End)>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (key, value) in node?.AsObject() ?? [])
                {
                    metadata[key] = value?.GetValue<string>() ?? string.Empty;
                }

                continue;
            }

            entries.Add(ParseEntry(path, name, node, dataLength));
        }

        var ordered = entries.OrderBy(e => e.Begin).ToList();
        for (var i = 1; i < ordered.Count; i++)
        {
            if (ordered[i].Begin < ordered[i - 1].End)
            {
                throw new InvalidDataException($"{path}: tensors '{ordered[i - 1].Name}' and '{ordered[i].Name}' overlap");
            }
        }

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in entries)
            {
                var bytes = new byte[entry.End - entry.Begin];
                stream.Position = dataStart + entry.Begin;
                stream.ReadExactly(bytes);
                tensors[entry.Name] = Tensor.FromBytes(bytes, entry.Shape, entry.DType).DetachFromDisposeScope();
            }
        }
        catch
        {
            foreach (var tensor in tensors.Values)
            {
                tensor.Dispose();
            }

            throw;
        }

        return (tensors, metadata);
    }

    private static (string Name, ScalarType DType, long[] Shape, long Begin, long End) ParseEntry(string path, string name, JsonNode? node, long dataLength)
    {
        try
        {
            var entry = node?.AsObject() ?? throw new InvalidDataException("not an object");
            var dtype = ParseDType(entry["dtype"]?.GetValue<string>() ?? throw new InvalidDataException("no dtype"));
            var shape = (entry["shape"]?.AsArray() ?? throw new InvalidDataException("no shape")).Select(s => s!.GetValue<long>()).ToArray();
            var offsets = (entry["data_offsets"]?.AsArray() ?? throw new InvalidDataException("no data_offsets")).Select(o => o!.GetValue<long>()).ToArray();
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
            {
                throw new InvalidDataException($"data_offsets [{string.Join(", ", offsets)}] are outside the {dataLength} data bytes");
            }

            if (shape.Any(s => s < 0))
            {
                throw new InvalidDataException($"negative size in shape [{string.Join(", ", shape)}]");
            }

            var expected = shape.Aggregate(1L, (a, b) => checked(a * b)) * dtype.ElementSize();
            if (expected != offsets[1] - offsets[0])
            {
                throw new InvalidDataException($"shape [{string.Join(", ", shape)}] of {dtype.Name()} needs {expected} bytes but the offsets span {offsets[1] - offsets[0]}");
            }

            return (name, dtype, shape, offsets[0], offsets[1]);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException or InvalidDataException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: tensor '{name}': {e.Message}", e);
        }
    }

    /// <summary>The safetensors dtype code (F32, BF16, ...) of <paramref name="type"/>; <paramref name="name"/> names the tensor in the error.</summary>
    internal static string DTypeName(ScalarType type, string name) => type switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float64 => "F64",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.UInt8 => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new ArgumentException($"tensor '{name}' has dtype {type} that safetensors cannot hold"),
    };

    /// <summary>The element type of a safetensors dtype code; <see cref="InvalidDataException"/> for an unknown one.</summary>
    internal static ScalarType ParseDType(string name) => name switch
    {
        "F32" => ScalarType.Float32,
        "F64" => ScalarType.Float64,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.UInt8,
        "BOOL" => ScalarType.Bool,
        _ => throw new InvalidDataException($"unsupported dtype '{name}'"),
    };
}
