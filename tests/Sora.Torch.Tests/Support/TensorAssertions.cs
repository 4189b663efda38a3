namespace Sora.Torch.Tests.Support;

/// <summary>Assertions on tensor contents.</summary>
internal static class TensorAssertions
{
    /// <summary>The elements, row-major, as float64 whatever the tensor's own element type.</summary>
    public static double[] Values(this Tensor tensor)
    {
        using var converted = tensor.To(ScalarType.Float64).DetachFromDisposeScope();
        return converted.ToArray<double>();
    }

    /// <summary>Asserts the shape and that every element is within <paramref name="tolerance"/> of the expected one.</summary>
    public static void ShouldApproximate(this Tensor actual, long[] shape, IReadOnlyList<double> expected, double tolerance = 1e-6)
    {
        actual.Shape.Should().Equal(shape);
        actual.ShouldApproximate(expected, tolerance);
    }

    /// <summary>Asserts that every element is within <paramref name="tolerance"/> of the expected one.</summary>
    public static void ShouldApproximate(this Tensor actual, IReadOnlyList<double> expected, double tolerance = 1e-6, string because = "")
    {
        var values = actual.Values();
        values.Should().HaveCount(expected.Count, $"expected [{string.Join(", ", expected)}] {because}");
        for (var i = 0; i < values.Length; i++)
        {
            if (double.IsNaN(expected[i]) || double.IsInfinity(expected[i]))
            {
                values[i].Should().Be(expected[i], $"element {i} of [{string.Join(", ", values)}] {because}");
            }
            else
            {
                values[i].Should().BeApproximately(expected[i], tolerance, $"element {i} of [{string.Join(", ", values)}] {because}");
            }
        }
    }
}
