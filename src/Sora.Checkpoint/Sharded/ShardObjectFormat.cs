using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Sora.Checkpoint.Formats;

namespace Sora.Checkpoint.Sharded;

/// <summary>
/// The bytes of one shard object, laid out as a safetensors file so that ordinary tools can open it: an 8-byte
/// little-endian header length, a JSON header (padded with spaces to a multiple of 8) mapping each tensor name to
/// dtype, the shape <c>[End - Start]</c> of its flat range and its data offsets, then the ranges back to back.
/// The manifest records absolute byte offsets, so a reader never needs the header.
/// </summary>
internal static class ShardObjectFormat
{
    public const string FormatName = "sora-sharded-checkpoint-shard";

    /// <summary>The header bytes (length prefix included) and each range's absolute offset in the object.</summary>
    public static (byte[] Header, long[] Offsets) Header(ShardSnapshot snapshot)
    {
        var header = new JsonObject
        {
            ["__metadata__"] = new JsonObject
            {
                ["format"] = FormatName,
                ["format_version"] = CheckpointManifest.CurrentFormatVersion.ToString(CultureInfo.InvariantCulture),
                ["step"] = snapshot.Header.Step.ToString(CultureInfo.InvariantCulture),
                ["rank"] = snapshot.Header.Rank.ToString(CultureInfo.InvariantCulture),
                ["world_size"] = snapshot.Header.WorldSize.ToString(CultureInfo.InvariantCulture),
            },
        };
        var relative = new long[snapshot.Ranges.Count];
        long offset = 0;
        for (var i = 0; i < snapshot.Ranges.Count; i++)
        {
            var range = snapshot.Ranges[i];
            relative[i] = offset;
            header[range.Name] = new JsonObject
            {
                ["dtype"] = SafeTensorsFile.DTypeName(range.DType, range.Name),
                ["shape"] = new JsonArray(range.End - range.Start),
                ["data_offsets"] = new JsonArray(offset, offset + range.Data.Length),
            };
            offset += range.Data.Length;
        }

        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8;
        var bytes = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)padded);
        json.CopyTo(bytes, 8);
        bytes.AsSpan(8 + json.Length).Fill((byte)' ');
        return (bytes, relative.Select(r => r + bytes.Length).ToArray());
    }
}
