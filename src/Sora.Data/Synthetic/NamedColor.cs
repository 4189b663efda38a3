using Sora.Data.Video;

namespace Sora.Data.Synthetic;

/// <summary>A colour and the word a caption uses for it.</summary>
public sealed record NamedColor(string Name, Rgb Rgb);
