using Sora.Data.Video;
using Sora.Torch;

namespace Sora.Data.Tests.Video;

public class VideoClipTests
{
    private static VideoClip Ramp(int frames, int height, int width)
    {
        var pixels = new byte[frames * height * width * 3];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)((i * 7) % 256);
        }

        return new VideoClip(frames, height, width, pixels);
    }

    [Fact]
    public void The_constructor_rejects_sizes_that_do_not_match_the_bytes()
    {
        var act = () => new VideoClip(2, 4, 4, new byte[(2 * 4 * 4 * 3) - 1]);
        act.Should().Throw<ArgumentException>().WithMessage("*2 frames of 4x4*needs 96 bytes, got 95*");
        ((Func<VideoClip>)(() => new VideoClip(0, 4, 4, []))).Should().Throw<ArgumentOutOfRangeException>();
        ((Func<VideoClip>)(() => new VideoClip(1, 4, -1, []))).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void The_constructor_copies_the_pixels()
    {
        var pixels = new byte[3];
        var clip = new VideoClip(1, 1, 1, pixels);
        pixels[0] = 9;
        clip.Pixels[0].Should().Be(0);
        clip.IsImage.Should().BeTrue();
    }

    [Fact]
    public void Pixels_are_laid_out_frame_row_column_channel()
    {
        var clip = Ramp(2, 3, 4);
        var i = (((1 * 3 * 4) + (2 * 4) + 3) * 3);
        clip[1, 2, 3].Should().Be(new Rgb(clip.Pixels[i], clip.Pixels[i + 1], clip.Pixels[i + 2]));
        clip.Frame(1).ToArray().Should().Equal(clip.Pixels[(3 * 4 * 3)..].ToArray());
        clip.Invoking(c => c.Frame(2)).Should().Throw<ArgumentOutOfRangeException>();
        clip.Invoking(c => c[0, 3, 0]).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void ToTensor_gives_channels_first_values_in_minus_one_to_one()
    {
        using var scope = Tensor.NewDisposeScope();
        var pixels = new byte[] { 0, 255, 51, 255, 0, 204 }; // 1 frame, 1 row, 2 pixels
        var tensor = new VideoClip(1, 1, 2, pixels).ToTensor();

        tensor.Shape.Should().Equal(3, 1, 1, 2);
        tensor.DType.Should().Be(ScalarType.Float32);
        tensor.ToArray<float>().Should().Equal(-1f, 1f, 1f, -1f, (51 / 127.5f) - 1f, (204 / 127.5f) - 1f);
    }

    [Fact]
    public void FromTensor_inverts_ToTensor_exactly()
    {
        using var scope = Tensor.NewDisposeScope();
        var clip = Ramp(3, 5, 7);
        VideoClip.FromTensor(clip.ToTensor()).ContentEquals(clip).Should().BeTrue();
        VideoClip.FromTensor(clip.ToTensor().To(ScalarType.Float64)).ContentEquals(clip).Should().BeTrue("any floating-point tensor is accepted");
    }

    [Fact]
    public void FromTensor_clamps_and_rounds_model_outputs()
    {
        using var scope = Tensor.NewDisposeScope();
        var values = new float[] { -3f, 2f, 0f, -0.9999f, 0.0039f, 0.0041f };
        var clip = VideoClip.FromTensor(Tensor.FromArray(values, 3, 1, 1, 2));

        // Channel-first values land in (T, H, W, 3): pixel 0 = (c0[0], c1[0], c2[0]).
        clip[0, 0, 0].Should().Be(new Rgb(0, 128, 128)); // -3 clamps to 0; 0 -> 127.5 rounds up; 0.0039 -> 127.997
        clip[0, 0, 1].Should().Be(new Rgb(255, 0, 128)); // 2 clamps to 255; -0.9999 -> 0.01
    }

    [Fact]
    public void FromTensor_rejects_bad_shapes_types_and_NaN()
    {
        using var scope = Tensor.NewDisposeScope();
        ((Action)(() => VideoClip.FromTensor(Tensor.Zeros([1, 3, 2, 4, 4])))).Should().Throw<ArgumentException>().WithMessage("*(3, T, H, W)*[1, 3, 2, 4, 4]*");
        ((Action)(() => VideoClip.FromTensor(Tensor.Zeros([4, 2, 4, 4])))).Should().Throw<ArgumentException>().WithMessage("*(3, T, H, W)*");
        ((Action)(() => VideoClip.FromTensor(Tensor.Zeros([3, 1, 2, 2], ScalarType.Int64)))).Should().Throw<ArgumentException>().WithMessage("*floating-point*");
        var nan = new float[3 * 2 * 2 * 2];
        nan[^1] = float.NaN;
        ((Action)(() => VideoClip.FromTensor(Tensor.FromArray(nan, 3, 2, 2, 2)))).Should().Throw<ArgumentException>().WithMessage("*NaN at [2, 1, 1, 1]*");
    }

    [Fact]
    public void Upscale_repeats_each_pixel_as_a_block()
    {
        var clip = Ramp(2, 2, 3);
        var big = clip.Upscale(3);
        big.Frames.Should().Be(2);
        big.Height.Should().Be(6);
        big.Width.Should().Be(9);
        for (var t = 0; t < 2; t++)
        {
            for (var y = 0; y < 6; y++)
            {
                for (var x = 0; x < 9; x++)
                {
                    big[t, y, x].Should().Be(clip[t, y / 3, x / 3]);
                }
            }
        }

        clip.Upscale(1).Should().BeSameAs(clip);
    }

    [Fact]
    public void Slice_and_Filled_make_the_expected_clips()
    {
        var clip = Ramp(4, 2, 2);
        var middle = clip.Slice(1, 2);
        middle.Frames.Should().Be(2);
        middle.Frame(0).ToArray().Should().Equal(clip.Frame(1).ToArray());
        clip.Invoking(c => c.Slice(3, 2)).Should().Throw<ArgumentOutOfRangeException>();

        var red = VideoClip.Filled(2, 3, 3, new Rgb(200, 1, 2));
        red[1, 2, 2].Should().Be(new Rgb(200, 1, 2));
    }
}
