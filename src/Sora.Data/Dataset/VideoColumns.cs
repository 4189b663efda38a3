namespace Sora.Data.Dataset;

/// <summary>Which columns a <see cref="VideoShardReader"/> reads; leave out <see cref="Payload"/> to read shapes and captions cheaply.</summary>
[Flags]
public enum VideoColumns
{
    None = 0,
    Id = 1,
    Caption = 2,
    TextEmbedding = 4,
    Kind = 8,

    /// <summary>channels, frames, height and width.</summary>
    Shape = 16,
    Fps = 32,
    DType = 64,
    Payload = 128,
    Source = 256,

    /// <summary>Everything but the payload.</summary>
    Metadata = Id | Caption | TextEmbedding | Kind | Shape | Fps | DType | Source,
    All = Metadata | Payload,
}
