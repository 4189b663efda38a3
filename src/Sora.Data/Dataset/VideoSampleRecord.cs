using Sora.Data.Synthetic;
using Sora.Data.Video;

namespace Sora.Data.Dataset;

/// <summary>
/// One row of a video dataset shard (see <see cref="VideoDatasetSchema"/>): a clip's identity, caption, optional
/// precomputed text embedding, and its payload — a C-contiguous array of shape (channels, frames, height, width) in
/// <see cref="DType"/>. A record read with only some columns holds defaults (empty, 0, null) in the others.
/// </summary>
public sealed record VideoSampleRecord
{
    public string Id { get; init; } = string.Empty;

    public string Caption { get; init; } = string.Empty;

    /// <summary>A precomputed caption embedding, or null when the dataset has none for this sample.</summary>
    public float[]? TextEmbedding { get; init; }

    public VideoSampleKind Kind { get; init; }

    public int Channels { get; init; }

    public int Frames { get; init; }

    public int Height { get; init; }

    public int Width { get; init; }

    public float Fps { get; init; }

    /// <summary>Element type of the payload: "uint8", "float16", "bfloat16" or "float32".</summary>
    public string DType { get; init; } = VideoDType.UInt8;

    /// <summary>The (channels, frames, height, width) array's bytes, little-endian.</summary>
    public byte[] Payload { get; init; } = [];

    /// <summary>Where the sample came from ("synthetic:moving-shapes seed=1", a file path, ...).</summary>
    public string Source { get; init; } = string.Empty;

    /// <summary>The payload's length in bytes that the shape and dtype call for.</summary>
    public long ExpectedPayloadBytes => (long)Channels * Frames * Height * Width * VideoDType.Size(DType);

    /// <summary>A moving-shapes clip as a pixel record: uint8 RGB, its (T, H, W, 3) pixels reordered to (3, T, H, W).</summary>
    public static VideoSampleRecord FromMovingShapes(MovingShapesSample sample, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(sample);
        return FromClip(sample.Clip, $"moving-shapes-{seed}-{sample.Index:D8}", sample.Caption, sample.Fps, $"synthetic:moving-shapes seed={seed}");
    }

    /// <summary>A uint8 pixel record of an RGB clip (stored channels-first).</summary>
    public static VideoSampleRecord FromClip(VideoClip clip, string id, string caption, double fps, string source)
    {
        ArgumentNullException.ThrowIfNull(clip);
        return new VideoSampleRecord
        {
            Id = id,
            Caption = caption,
            Kind = VideoSampleKind.Pixels,
            Channels = 3,
            Frames = clip.Frames,
            Height = clip.Height,
            Width = clip.Width,
            Fps = (float)fps,
            DType = VideoDType.UInt8,
            Payload = ChannelsFirst(clip.Pixels, clip.Frames * clip.Height * clip.Width),
            Source = source,
        };
    }

    /// <summary>A uint8 pixel record with 3 channels back as a (T, H, W, 3) clip.</summary>
    public VideoClip ToClip()
    {
        if (Kind != VideoSampleKind.Pixels || DType != VideoDType.UInt8 || Channels != 3)
        {
            throw new InvalidOperationException($"sample '{Id}' is {Kind.ToString().ToLowerInvariant()} {DType} with {Channels} channels; only 3-channel uint8 pixels make a clip");
        }

        var positions = Frames * Height * Width;
        if (Payload.Length != positions * 3)
        {
            throw new InvalidOperationException($"sample '{Id}' has {Payload.Length} payload bytes, not the {positions * 3} its shape needs");
        }

        var pixels = new byte[Payload.Length];
        for (var c = 0; c < 3; c++)
        {
            var plane = Payload.AsSpan(c * positions, positions);
            for (var p = 0; p < positions; p++)
            {
                pixels[(p * 3) + c] = plane[p];
            }
        }

        return new VideoClip(Frames, Height, Width, pixels);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first field that is out of range or inconsistent.</summary>
    public void Validate()
    {
        void Require(bool ok, string field, string problem)
        {
            if (!ok)
            {
                throw new ArgumentException($"video sample '{Id}': {field} {problem}", field);
            }
        }

        Require(!string.IsNullOrEmpty(Id), nameof(Id), "is empty");
        Require(Enum.IsDefined(Kind), nameof(Kind), $"{Kind} is not pixels or latents");
        Require(Channels > 0 && Frames > 0 && Height > 0 && Width > 0, "shape", $"({Channels}, {Frames}, {Height}, {Width}) must be positive");
        Require(VideoDType.IsKnown(DType), nameof(DType), $"'{DType}' is not one of {string.Join(", ", VideoDType.All)}");
        Require(Payload.LongLength == ExpectedPayloadBytes, nameof(Payload), $"has {Payload.LongLength} bytes; ({Channels}, {Frames}, {Height}, {Width}) {DType} needs {ExpectedPayloadBytes}");
        Require(float.IsFinite(Fps) && Fps >= 0, nameof(Fps), $"{Fps} must be finite and not negative");
    }

    private static byte[] ChannelsFirst(ReadOnlySpan<byte> interleaved, int positions)
    {
        var planar = new byte[interleaved.Length];
        for (var p = 0; p < positions; p++)
        {
            planar[p] = interleaved[p * 3];
            planar[positions + p] = interleaved[(p * 3) + 1];
            planar[(2 * positions) + p] = interleaved[(p * 3) + 2];
        }

        return planar;
    }
}
