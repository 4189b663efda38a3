namespace Sora.Torch.Tests.Tensors;

public class TensorCreationTests
{
    [Fact]
    public void Zeros_ones_full_have_the_requested_shape_dtype_and_values()
    {
        using var scope = Tensor.NewDisposeScope();
        var zeros = Tensor.Zeros([2, 3]);
        zeros.Shape.Should().Equal(2, 3);
        zeros.DType.Should().Be(ScalarType.Float32);
        zeros.ToArray<float>().Should().AllBeEquivalentTo(0f);

        Tensor.Ones([4], ScalarType.Int64).ToArray<long>().Should().Equal(1, 1, 1, 1);
        Tensor.Full([2, 2], 2.5, ScalarType.Float64).ToArray<double>().Should().Equal(2.5, 2.5, 2.5, 2.5);
        Tensor.Empty([3, 0]).NumElements.Should().Be(0);
    }

    [Fact]
    public void Arange_counts_from_start_to_end_by_step()
    {
        using var scope = Tensor.NewDisposeScope();
        Tensor.Arange(5).ToArray<long>().Should().Equal(0, 1, 2, 3, 4);
        Tensor.Arange(1.0, 2.0, 0.25, ScalarType.Float64).ToArray<double>().Should().Equal(1.0, 1.25, 1.5, 1.75);
    }

    [Fact]
    public void Random_factories_respect_their_ranges()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(7);
        var uniform = Tensor.Rand([1000]).ToArray<float>();
        uniform.Should().OnlyContain(x => x >= 0 && x < 1);

        var ints = Tensor.RandInt(3, 6, [1000]).ToArray<long>();
        ints.Should().OnlyContain(x => x >= 3 && x < 6);
        ints.Distinct().Should().HaveCount(3);

        var normal = Tensor.Randn([20000], ScalarType.Float64);
        normal.Mean().ItemDouble().Should().BeApproximately(0, 0.05);
        normal.Var().ItemDouble().Should().BeApproximately(1, 0.05);
    }

    [Fact]
    public void Data_round_trips_through_managed_spans_for_every_dtype()
    {
        using var scope = Tensor.NewDisposeScope();
        Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3).ToArray<float>().Should().Equal(1, 2, 3, 4, 5, 6);
        Tensor.FromArray(new double[] { -1.5, 2.25 }).ToArray<double>().Should().Equal(-1.5, 2.25);
        Tensor.FromArray(new long[] { long.MinValue, long.MaxValue }).ToArray<long>().Should().Equal(long.MinValue, long.MaxValue);
        Tensor.FromArray(new int[] { -7, 9 }).ToArray<int>().Should().Equal(-7, 9);
        Tensor.FromArray(new byte[] { 0, 255 }).ToArray<byte>().Should().Equal(0, 255);
        Tensor.FromArray(new bool[] { true, false, true }).ToArray<bool>().Should().Equal(true, false, true);
        Tensor.FromArray(new Half[] { (Half)0.5, (Half)(-2) }).ToArray<Half>().Should().Equal((Half)0.5, (Half)(-2));
    }

    [Fact]
    public void Half_precision_types_convert_and_round()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Tensor.FromArray(new float[] { 1f, 1.00390625f, 3.14159f });
        var bf16 = x.To(ScalarType.BFloat16);
        bf16.DType.Should().Be(ScalarType.BFloat16);
        bf16.To(ScalarType.Float32).ToArray<float>().Should().Equal(1f, 1f, 3.140625f);
        x.To(ScalarType.Float16).To(ScalarType.Float32).ToArray<float>()[2].Should().BeApproximately(3.1406f, 1e-3f);
    }

    [Fact]
    public void A_zero_copy_view_reads_the_tensor_memory_without_copying()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Tensor.Arange(0.0, 6.0, 1.0, ScalarType.Float32).Reshape(2, 3);
        var view = x.AsReadOnlySpan<float>();
        view.ToArray().Should().Equal(0, 1, 2, 3, 4, 5);

        x.Add_(10);
        x.AsReadOnlySpan<float>()[0].Should().Be(10, "the span reads live tensor memory");

        var transposed = x.T();
        var act = () => transposed.AsReadOnlySpan<float>().Length;
        act.Should().Throw<InvalidOperationException>().WithMessage("*contiguous*");
    }

    [Fact]
    public void A_writable_byte_view_fills_a_new_tensor_in_place_range_by_range()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Tensor.Empty([2, 3], ScalarType.Float32);
        var values = new float[] { 0, 1, 2, 3, 4, 5 };
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan());
        bytes[..8].CopyTo(x.AsWritableBytes(0, 8));
        bytes[8..].CopyTo(x.AsWritableBytes(8, 16));
        x.ToArray<float>().Should().Equal(values);
        x.AsWritableBytes(24, 0).Length.Should().Be(0);

        var outside = () => x.AsWritableBytes(20, 8).Length;
        outside.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*bytes [20, 28) are outside the tensor's 24 bytes*");
        var transposed = () => x.T().AsWritableBytes(0, 4).Length;
        transposed.Should().Throw<InvalidOperationException>().WithMessage("*contiguous*");
    }

    [Fact]
    public void Reading_with_the_wrong_element_type_names_both_types()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Tensor.Zeros([2]);
        var act = () => x.ToArray<long>();
        act.Should().Throw<InvalidOperationException>().WithMessage("*float32*Int64*");
    }

    [Fact]
    public void Items_read_one_element_tensors()
    {
        using var scope = Tensor.NewDisposeScope();
        Tensor.FromScalar(3.5).ItemDouble().Should().Be(3.5);
        Tensor.FromScalar(42L, ScalarType.Int64).ItemLong().Should().Be(42);
        Tensor.Zeros([2]).Invoking(t => t.ItemDouble()).Should().Throw<TorchException>();
    }

    [Fact]
    public void Cuda_compiles_out_cleanly_on_a_cpu_build()
    {
        if (TorchRuntime.BuiltWithCuda)
        {
            return;
        }

        TorchRuntime.CudaIsAvailable.Should().BeFalse();
        var act = () => Tensor.Zeros([1], device: Device.Cuda());
        act.Should().Throw<TorchException>().WithMessage("*no CUDA support*");
    }
}

public sealed class SharedTensorMemoryTests
{
    [Fact]
    public unsafe void Tensors_made_together_are_separate_aligned_and_the_mapping_lives_until_the_last_is_disposed()
    {
        var tensors = Tensor.EmptyShared([([3, 5], ScalarType.Float32), ([7], ScalarType.UInt8), ([0], ScalarType.Float32), ([1 << 20], ScalarType.BFloat16), ([2, 2], ScalarType.Int64)]);
        try
        {
            tensors.Select(t => t.Shape).Should().BeEquivalentTo(new long[][] { [3, 5], [7], [0], [1 << 20], [2, 2] }, o => o.WithStrictOrdering());
            tensors.Select(t => t.DType).Should().Equal(ScalarType.Float32, ScalarType.UInt8, ScalarType.Float32, ScalarType.BFloat16, ScalarType.Int64);
            for (var i = 0; i < tensors.Length; i++)
            {
                tensors[i].Fill_(i + 1);
            }

            for (var i = 0; i < tensors.Length; i++)
            {
                if (tensors[i].NumElements > 0)
                {
                    Total(tensors[i]).Should().Be((i + 1) * tensors[i].NumElements, $"tensor {i} kept its own values: no tensor overlaps another");
                    ((long)Address(tensors[i]) % 64).Should().Be(0, $"tensor {i} starts on a 64-byte boundary");
                }
            }

            using (Tensor.NewDisposeScope())
            {
                tensors[0].MatMul(tensors[0].T()).ToArray<float>()[0].Should().Be(5, "they are ordinary tensors");
            }

            var mapping = Address(tensors[3]);
            IsMapped(mapping).Should().BeTrue();
            foreach (var t in tensors.Take(3))
            {
                t.Dispose();
            }

            IsMapped(mapping).Should().BeTrue("two tensors still use the mapping");
            Total(tensors[3]).Should().Be(4 * tensors[3].NumElements);
            tensors[3].Dispose();
            tensors[4].Dispose();
            IsMapped(mapping).Should().BeFalse("the last tensor took the mapping with it");
        }
        finally
        {
            foreach (var t in tensors)
            {
                t.Dispose();
            }
        }

        Tensor.EmptyShared([]).Should().BeEmpty();
    }

    private static double Total(Tensor tensor)
    {
        using var wide = tensor.To(ScalarType.Float64);
        using var sum = wide.Sum();
        return sum.ItemDouble();
    }

    private static unsafe nint Address(Tensor tensor)
    {
        fixed (byte* p = tensor.AsWritableBytes(0, 1))
        {
            return (nint)p;
        }
    }

    // Whether /proc/self/maps lists a mapping that holds the address.
    private static bool IsMapped(nint address) =>
        File.ReadLines("/proc/self/maps").Select(line => line.Split(' ')[0].Split('-')).Any(range =>
            (ulong)address >= Convert.ToUInt64(range[0], 16) && (ulong)address < Convert.ToUInt64(range[1], 16));
}
