namespace Sora.Data.Synthetic;

/// <summary>
/// The fraction of clips, each in [0, 1], whose background, colour, direction and shape read as their prompt says and that
/// show one object; and <paramref name="CleanBackground"/>, the clips' mean share of clean background pixels
/// (<see cref="Video.ClipMeasurement.CleanBackground"/>).
/// </summary>
public sealed record MeasurementAccuracy(double Background, double Color, double Direction, double OneObject, double Shape, double CleanBackground)
{
    /// <summary>The accuracies of <paramref name="checks"/>; all 0 when there are none.</summary>
    public static MeasurementAccuracy Of(IReadOnlyCollection<PromptCheck> checks)
    {
        ArgumentNullException.ThrowIfNull(checks);
        double Share(Func<PromptCheck, bool> correct) => checks.Count == 0 ? 0 : checks.Count(correct) / (double)checks.Count;
        return new MeasurementAccuracy(Share(c => c.BackgroundCorrect), Share(c => c.ColorCorrect), Share(c => c.DirectionCorrect), Share(c => c.OneObject), Share(c => c.ShapeCorrect),
            checks.Count == 0 ? 0 : checks.Average(c => c.Measured.CleanBackground));
    }

    /// <summary>Each measurement's name and accuracy, in the order the report prints them.</summary>
    public IEnumerable<(string Name, double Value)> Named() =>
        [("colour", Color), ("direction", Direction), ("one object", OneObject), ("shape", Shape), ("background", Background), ("clean background", CleanBackground)];
}
