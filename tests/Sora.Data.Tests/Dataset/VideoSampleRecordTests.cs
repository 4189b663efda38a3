using Sora.Data.Dataset;
using Sora.Data.Synthetic;

namespace Sora.Data.Tests.Dataset;

public class VideoSampleRecordTests
{
    [Fact]
    public void A_moving_shapes_clip_becomes_a_channels_first_uint8_record_and_back()
    {
        var sample = new MovingShapesGenerator(MovingShapesOptions.SmallCpu, 5).Generate(3);

        var record = VideoSampleRecord.FromMovingShapes(sample, 5);

        record.Should().Match<VideoSampleRecord>(r => r.Kind == VideoSampleKind.Pixels && r.Channels == 3 && r.DType == "uint8"
            && r.Frames == sample.Frames && r.Height == sample.Height && r.Width == sample.Width && r.Caption == sample.Caption);
        record.Id.Should().Be("moving-shapes-5-00000003");
        var positions = sample.Frames * sample.Height * sample.Width;
        record.Payload[positions + 7].Should().Be(sample.Clip.Pixels[(7 * 3) + 1], "the green plane follows the red one");
        record.ToClip().ContentEquals(sample.Clip).Should().BeTrue();
        record.Validate();
    }

    [Fact]
    public void A_payload_that_does_not_fit_the_shape_is_named()
    {
        var record = new VideoSampleRecord { Id = "x", Channels = 3, Frames = 2, Height = 4, Width = 4, Payload = new byte[95] };

        var act = record.Validate;

        act.Should().Throw<ArgumentException>().WithMessage("video sample 'x': Payload has 95 bytes; (3, 2, 4, 4) uint8 needs 96*");
    }

    [Fact]
    public void An_unknown_dtype_is_named_with_the_allowed_ones()
    {
        var record = new VideoSampleRecord { Id = "x", Channels = 1, Frames = 1, Height = 1, Width = 1, DType = "int7", Payload = new byte[1] };

        var act = record.Validate;

        act.Should().Throw<ArgumentException>().WithMessage("*DType 'int7' is not one of uint8, float16, bfloat16, float32*");
    }
}
