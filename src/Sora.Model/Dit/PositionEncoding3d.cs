using Sora.Torch;

namespace Sora.Model.Dit;

/// <summary>
/// Fixed 3-D sine-cosine position encoding over (t, h, w) token coordinates, computed for any grid
/// size (never cropped or interpolated). A quarter of the width encodes time, the rest is split
/// between rows and columns.
/// </summary>
public static class PositionEncoding3d
{
    /// <summary>Encoding of the tokens of a (T', H', W') grid in (t, h, w) order: (T'·H'·W', dim), on <paramref name="device"/> (default CPU).</summary>
    public static Tensor ForGrid(long frames, long height, long width, int dim, Device? device = null)
    {
        using var scope = Tensor.NewDisposeScope();
        var t = Tensor.Arange(frames, device: device).Reshape(frames, 1, 1).Expand(frames, height, width).Reshape(-1);
        var h = Tensor.Arange(height, device: device).Reshape(1, height, 1).Expand(frames, height, width).Reshape(-1);
        var w = Tensor.Arange(width, device: device).Reshape(1, 1, width).Expand(frames, height, width).Reshape(-1);
        return scope.MoveToOuter(ForPositions(Tensor.Stack([t, h, w], 1), dim));
    }

    /// <summary>Encoding of arbitrary token coordinates (L, 3) (t, h, w) as integers: (L, dim). Packed sequences use this.</summary>
    public static Tensor ForPositions(Tensor positions, int dim)
    {
        var (dt, dh, dw) = Split(dim);
        using var scope = Tensor.NewDisposeScope();
        var coords = positions.To(ScalarType.Float32);
        var encoded = Tensor.Cat(
        [
            Axis(coords.Select(1, 0), dt),
            Axis(coords.Select(1, 1), dh),
            Axis(coords.Select(1, 2), dw),
        ], 1);
        return scope.MoveToOuter(encoded);
    }

    /// <summary>Widths for (t, h, w); each even, summing to dim.</summary>
    public static (int T, int H, int W) Split(int dim)
    {
        if (dim % 8 != 0)
        {
            throw new ArgumentException($"3-D position encoding needs a width that is a multiple of 8, got {dim}", nameof(dim));
        }

        var t = dim / 4;
        var h = (dim - t) / 2 / 2 * 2;
        return (t, h, dim - t - h);
    }

    // Standard 1-D encoding: [sin(p·ω_i), cos(p·ω_i)] with ω_i = 10000^(−i/(d/2)).
    private static Tensor Axis(Tensor position, int dim)
    {
        var half = dim / 2;
        var omega = Tensor.Arange(0.0, half, 1.0, ScalarType.Float32, position.Device).Div(half).Mul(-Math.Log(10000)).Exp();
        var angles = position.Unsqueeze(1).Mul(omega.Unsqueeze(0));
        return Tensor.Cat([angles.Sin(), angles.Cos()], 1);
    }
}
