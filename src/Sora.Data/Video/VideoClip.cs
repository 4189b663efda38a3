using Sora.Torch;

namespace Sora.Data.Video;

/// <summary>
/// An RGB video of <see cref="Frames"/> frames, stored as bytes laid out (T, H, W, 3): the layout of ffmpeg's rgb24.
/// A single frame is an image.
/// </summary>
public sealed class VideoClip
{
    private readonly byte[] _pixels;

    /// <summary>A clip over a copy of <paramref name="pixels"/> (frames × height × width × 3 bytes).</summary>
    public VideoClip(int frames, int height, int width, ReadOnlySpan<byte> pixels)
        : this(frames, height, width, pixels.ToArray())
    {
    }

    private VideoClip(int frames, int height, int width, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frames, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var expected = (long)frames * height * width * 3;
        if (pixels.LongLength != expected)
        {
            throw new ArgumentException($"a clip of {frames} frames of {height}x{width} (H x W) RGB needs {expected} bytes, got {pixels.LongLength}", nameof(pixels));
        }

        Frames = frames;
        Height = height;
        Width = width;
        _pixels = pixels;
    }

    public int Frames { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>All pixels, (T, H, W, 3), read-only.</summary>
    public ReadOnlySpan<byte> Pixels => _pixels;

    /// <summary>Bytes in one frame: H × W × 3.</summary>
    public int FrameBytes => Height * Width * 3;

    public bool IsImage => Frames == 1;

    /// <summary>A clip of one colour.</summary>
    public static VideoClip Filled(int frames, int height, int width, Rgb color)
    {
        var pixels = AllocatePixels(frames, height, width);
        for (var i = 0; i < pixels.Length; i += 3)
        {
            pixels[i] = color.R;
            pixels[i + 1] = color.G;
            pixels[i + 2] = color.B;
        }

        return Wrap(frames, height, width, pixels);
    }

    /// <summary>The pixels of frame <paramref name="frame"/>, (H, W, 3).</summary>
    public ReadOnlySpan<byte> Frame(int frame)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(frame);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(frame, Frames);
        return _pixels.AsSpan(frame * FrameBytes, FrameBytes);
    }

    public Rgb this[int frame, int y, int x]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(y);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(y, Height);
            ArgumentOutOfRangeException.ThrowIfNegative(x);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(x, Width);
            var i = (y * Width + x) * 3;
            var f = Frame(frame);
            return new Rgb(f[i], f[i + 1], f[i + 2]);
        }
    }

    /// <summary>Frames [start, start + count) as a new clip.</summary>
    public VideoClip Slice(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, Frames, nameof(count));
        return Wrap(count, Height, Width, _pixels.AsSpan(start * FrameBytes, count * FrameBytes).ToArray());
    }

    /// <summary>Each pixel becomes a <paramref name="factor"/> × <paramref name="factor"/> block (nearest neighbour), so tiny clips can be seen.</summary>
    public VideoClip Upscale(int factor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        if (factor == 1)
        {
            return this;
        }

        int height = checked(Height * factor), width = checked(Width * factor);
        var pixels = AllocatePixels(Frames, height, width);
        var rowBytes = width * 3;
        for (var t = 0; t < Frames; t++)
        {
            var source = Frame(t);
            for (var y = 0; y < Height; y++)
            {
                var firstRow = pixels.AsSpan(((t * height) + (y * factor)) * rowBytes, rowBytes);
                for (var x = 0; x < Width; x++)
                {
                    var s = source.Slice(((y * Width) + x) * 3, 3);
                    for (var k = 0; k < factor; k++)
                    {
                        s.CopyTo(firstRow[(((x * factor) + k) * 3)..]);
                    }
                }

                for (var k = 1; k < factor; k++)
                {
                    firstRow.CopyTo(pixels.AsSpan(((t * height) + (y * factor) + k) * rowBytes, rowBytes));
                }
            }
        }

        return Wrap(Frames, height, width, pixels);
    }

    /// <summary>A float32 tensor (3, T, H, W) with values scaled from [0, 255] to [-1, 1].</summary>
    public Tensor ToTensor()
    {
        var plane = Frames * Height * Width;
        var values = new float[3 * plane];
        for (var p = 0; p < plane; p++)
        {
            values[p] = (_pixels[p * 3] / 127.5f) - 1f;
            values[plane + p] = (_pixels[(p * 3) + 1] / 127.5f) - 1f;
            values[(2 * plane) + p] = (_pixels[(p * 3) + 2] / 127.5f) - 1f;
        }

        return Tensor.FromSpan<float>(values, [3, Frames, Height, Width]);
    }

    /// <summary>
    /// The clip a (3, T, H, W) floating-point tensor in [-1, 1] shows (a model's output): values are clamped to
    /// [-1, 1] and rounded to the nearest byte. NaN is an error.
    /// </summary>
    public static VideoClip FromTensor(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var shape = tensor.Shape;
        if (shape.Length != 4 || shape[0] != 3 || shape[1] < 1 || shape[2] < 1 || shape[3] < 1)
        {
            throw new ArgumentException($"a video tensor must be (3, T, H, W) with T, H, W >= 1, got [{string.Join(", ", shape)}]", nameof(tensor));
        }

        if (!tensor.DType.IsFloatingPoint())
        {
            throw new ArgumentException($"a video tensor must hold floating-point values in [-1, 1], got {tensor.DType}", nameof(tensor));
        }

        float[] values;
        if (tensor.DType == ScalarType.Float32)
        {
            values = tensor.ToArray<float>();
        }
        else
        {
            using var converted = tensor.To(ScalarType.Float32).DetachFromDisposeScope();
            values = converted.ToArray<float>();
        }

        int frames = (int)shape[1], height = (int)shape[2], width = (int)shape[3];
        var plane = frames * height * width;
        var pixels = AllocatePixels(frames, height, width);
        for (var c = 0; c < 3; c++)
        {
            for (var p = 0; p < plane; p++)
            {
                var v = values[(c * plane) + p];
                if (float.IsNaN(v))
                {
                    var (t, rest) = Math.DivRem(p, height * width);
                    throw new ArgumentException($"the video tensor holds NaN at [{c}, {t}, {rest / width}, {rest % width}]", nameof(tensor));
                }

                pixels[(p * 3) + c] = (byte)MathF.Round((Math.Clamp(v, -1f, 1f) + 1f) * 127.5f, MidpointRounding.AwayFromZero);
            }
        }

        return Wrap(frames, height, width, pixels);
    }

    /// <summary>True when both clips have the same size and the same bytes.</summary>
    public bool ContentEquals(VideoClip? other) =>
        other is not null && other.Frames == Frames && other.Height == Height && other.Width == Width && other.Pixels.SequenceEqual(Pixels);

    public override string ToString() => $"VideoClip({Frames} x {Height} x {Width})";

    /// <summary>A clip over <paramref name="pixels"/> itself, without a copy: the caller gives the array up.</summary>
    internal static VideoClip Wrap(int frames, int height, int width, byte[] pixels) => new(frames, height, width, pixels);

    internal static byte[] AllocatePixels(int frames, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frames, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        return new byte[checked(frames * height * width * 3)];
    }
}
