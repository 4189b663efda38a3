using Sora.Model.Dit;
using Sora.Torch;

namespace Sora.Model.Tests.Dit;

public class PositionEncoding3dTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 8, 8)]
    [InlineData(8, 16, 24)]
    [InlineData(3, 5, 7)]
    [InlineData(16, 32, 32)]
    public void Works_for_any_grid_and_gives_every_token_a_distinct_code(long t, long h, long w)
    {
        using var scope = Tensor.NewDisposeScope();
        var encoding = PositionEncoding3d.ForGrid(t, h, w, 64);
        encoding.Shape.Should().Equal(t * h * w, 64);
        encoding.IsFinite().LogicalNot().Sum().ItemLong().Should().Be(0);
        if (t * h * w > 1)
        {
            // Squared distances between distinct tokens are bounded away from zero.
            var n = t * h * w;
            var norms = encoding.Square().Sum([1]);
            var squared = norms.Unsqueeze(1).Add(norms.Unsqueeze(0)).Sub(encoding.MatMul(encoding.T()).Mul(2));
            var diagonal = Tensor.Arange(n).Unsqueeze(0).Eq(Tensor.Arange(n).Unsqueeze(1));
            squared.MaskedFill(diagonal, 1e6).Amin().ItemDouble().Should().BeGreaterThan(1e-3);
        }
    }

    [Fact]
    public void A_grid_is_a_crop_free_extension_of_a_smaller_one()
    {
        using var scope = Tensor.NewDisposeScope();
        var small = PositionEncoding3d.ForGrid(2, 3, 4, 32).Reshape(2, 3, 4, 32);
        var large = PositionEncoding3d.ForGrid(4, 6, 8, 32).Reshape(4, 6, 8, 32);
        large.Narrow(0, 0, 2).Narrow(1, 0, 3).Narrow(2, 0, 4).AllClose(small).Should().BeTrue("a position's code does not depend on the grid size");
    }

    [Fact]
    public void Position_zero_encodes_as_sines_of_zero_and_cosines_of_one()
    {
        using var scope = Tensor.NewDisposeScope();
        var (dt, dh, dw) = PositionEncoding3d.Split(64);
        (dt + dh + dw).Should().Be(64);
        var first = PositionEncoding3d.ForGrid(1, 1, 1, 64).ToArray<float>();
        first.Take(dt / 2).Should().OnlyContain(v => v == 0);
        first.Skip(dt / 2).Take(dt / 2).Should().OnlyContain(v => v == 1);
    }
}
