namespace Sora.Data.Video;

/// <summary>An 8-bit sRGB colour.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    /// <summary>Squared Euclidean distance in RGB space (0 to 3 × 255²).</summary>
    public int DistanceSquared(Rgb other)
    {
        int dr = R - other.R, dg = G - other.G, db = B - other.B;
        return (dr * dr) + (dg * dg) + (db * db);
    }

    public double DistanceTo(Rgb other) => Math.Sqrt(DistanceSquared(other));

    public override string ToString() => $"#{R:x2}{G:x2}{B:x2}";
}
