using System.Buffers.Binary;
using System.Text;
using Sora.Checkpoint.Formats;
using Sora.Torch;

namespace Sora.Checkpoint.Tests.Formats;

public sealed class SafeTensorsFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sora-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Every_dtype_round_trips_bit_for_bit_with_metadata()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(3);
        var source = new Dictionary<string, Tensor>
        {
            ["f32"] = Tensor.Randn([3, 4]),
            ["f64"] = Tensor.Randn([5], ScalarType.Float64),
            ["bf16"] = Tensor.Randn([2, 2]).To(ScalarType.BFloat16),
            ["f16"] = Tensor.Randn([7]).To(ScalarType.Float16),
            ["i64"] = Tensor.Arange(6).Reshape(2, 3),
            ["u8"] = Tensor.FromArray(new byte[] { 0, 7, 255 }),
            ["bool"] = Tensor.FromArray(new[] { true, false }),
            ["empty"] = Tensor.Zeros([0, 3]),
            ["transposed"] = Tensor.Randn([3, 2]).T(),
        };
        var path = Path.Combine(_dir, "a.safetensors");
        SafeTensorsFile.Write(path, source, new Dictionary<string, string> { ["step"] = "42" });

        var (tensors, metadata) = SafeTensorsFile.Read(path);
        using var _ = new DisposeAll(tensors.Values);
        metadata.Should().Equal(new Dictionary<string, string> { ["step"] = "42" });
        tensors.Keys.Should().BeEquivalentTo(source.Keys);
        foreach (var (name, expected) in source)
        {
            tensors[name].Equal(expected).Should().BeTrue($"{name} must round-trip exactly");
        }

        Directory.GetFiles(_dir).Should().ContainSingle("the temporary file is renamed into place");
    }

    [Fact]
    public void The_header_is_what_other_safetensors_readers_expect()
    {
        using var scope = Tensor.NewDisposeScope();
        var path = Path.Combine(_dir, "b.safetensors");
        SafeTensorsFile.Write(path, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones([2, 3]) });
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        (headerLength % 8).Should().Be(0);
        Encoding.UTF8.GetString(bytes, 8, headerLength).TrimEnd().Should().Be("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}");
        bytes.Length.Should().Be(8 + headerLength + 24);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("huge-header")]
    [InlineData("offsets-past-end")]
    [InlineData("size-mismatch")]
    [InlineData("bad-dtype")]
    [InlineData("not-json")]
    public void Corrupt_files_are_rejected_naming_the_file_and_tensor(string corruption)
    {
        using var scope = Tensor.NewDisposeScope();
        var path = Path.Combine(_dir, "c.safetensors");
        SafeTensorsFile.Write(path, new Dictionary<string, Tensor> { ["weight"] = Tensor.Ones([4]) });
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = Encoding.UTF8.GetString(bytes, 8, headerLength);
        byte[] Rewrite(string newHeader)
        {
            var json = Encoding.UTF8.GetBytes(newHeader);
            var result = new byte[8 + json.Length + 16];
            BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)json.Length);
            json.CopyTo(result, 8);
            return result;
        }

        var corrupted = corruption switch
        {
            "truncated" => bytes[..5],
            "huge-header" => [.. BitConverter.GetBytes(ulong.MaxValue / 2), .. bytes[8..]],
            "offsets-past-end" => Rewrite(header.Replace("[0,16]", "[0,160]")),
            "size-mismatch" => Rewrite(header.Replace("[4]", "[5]")),
            "bad-dtype" => Rewrite(header.Replace("F32", "Q7")),
            _ => Rewrite("{not json"),
        };
        File.WriteAllBytes(path, corrupted);

        var act = () => SafeTensorsFile.Read(path);
        var error = act.Should().Throw<InvalidDataException>().Which;
        error.Message.Should().Contain(path);
        if (corruption is "offsets-past-end" or "size-mismatch" or "bad-dtype")
        {
            error.Message.Should().Contain("'weight'");
        }
    }

    private sealed class DisposeAll(IEnumerable<Tensor> tensors) : IDisposable
    {
        public void Dispose()
        {
            foreach (var tensor in tensors)
            {
                tensor.Dispose();
            }
        }
    }
}
