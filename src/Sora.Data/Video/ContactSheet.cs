using Sora.Imaging;

namespace Sora.Data.Video;

/// <summary>All frames of a clip laid out side by side in one image, to look at a video (or a batch of samples) as a PNG.</summary>
public static class ContactSheet
{
    /// <summary>The colour of the lines between frames.</summary>
    public static Rgb GapColor { get; } = new(64, 64, 64);

    /// <summary>
    /// One image with the frames in rows of <paramref name="columns"/> (0: all in one row), left to right then top to bottom,
    /// separated by <paramref name="gap"/> pixels of <see cref="GapColor"/>. Cells past the last frame stay gap-coloured.
    /// </summary>
    public static VideoClip Compose(VideoClip clip, int columns = 0, int gap = 1)
    {
        ArgumentNullException.ThrowIfNull(clip);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        ArgumentOutOfRangeException.ThrowIfNegative(gap);
        if (clip.IsImage)
        {
            return clip;
        }

        var cols = columns == 0 ? clip.Frames : Math.Min(columns, clip.Frames);
        var rows = (clip.Frames + cols - 1) / cols;
        var width = checked((cols * clip.Width) + ((cols - 1) * gap));
        var height = checked((rows * clip.Height) + ((rows - 1) * gap));
        var sheet = VideoClip.Filled(1, height, width, GapColor).Pixels.ToArray();
        var frameRow = clip.Width * 3;
        for (var t = 0; t < clip.Frames; t++)
        {
            var (row, col) = Math.DivRem(t, cols);
            int top = row * (clip.Height + gap), left = col * (clip.Width + gap);
            var frame = clip.Frame(t);
            for (var y = 0; y < clip.Height; y++)
            {
                frame.Slice(y * frameRow, frameRow).CopyTo(sheet.AsSpan((((top + y) * width) + left) * 3, frameRow));
            }
        }

        return VideoClip.Wrap(1, height, width, sheet);
    }

    /// <summary>Writes <see cref="Compose"/>'s image as a PNG, each pixel enlarged to an <paramref name="upscale"/> × <paramref name="upscale"/> block.</summary>
    public static void WritePng(VideoClip clip, string path, int columns = 0, int upscale = 1, int gap = 1)
    {
        var image = Compose(clip, columns, gap).Upscale(upscale);
        PngEncoder.WriteFile(path, image.Width, image.Height, image.Pixels);
    }
}
