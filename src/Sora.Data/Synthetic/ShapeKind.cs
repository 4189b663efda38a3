namespace Sora.Data.Synthetic;

/// <summary>The shapes the moving-shapes dataset draws; captions use the lower-case name.</summary>
public enum ShapeKind
{
    Circle,
    Square,
    Triangle,
}
