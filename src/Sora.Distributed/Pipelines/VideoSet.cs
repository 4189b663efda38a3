using Sora.Data.Synthetic;
using Sora.Distributed.Configuration;

namespace Sora.Distributed.Pipelines;

/// <summary>The moving-shapes clips a job trains on, plus held-out clips (later indices of the same stream).</summary>
public sealed class SyntheticVideoSet
{
    private SyntheticVideoSet(MovingShapesGenerator generator, IReadOnlyList<MovingShapesSample> train, IReadOnlyList<MovingShapesSample> heldOut)
    {
        Generator = generator;
        Train = train;
        HeldOut = heldOut;
    }

    public MovingShapesGenerator Generator { get; }

    public IReadOnlyList<MovingShapesSample> Train { get; }

    public IReadOnlyList<MovingShapesSample> HeldOut { get; }

    public static MovingShapesOptions OptionsFor(SyntheticDataConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var options = MovingShapesOptions.Default with
        {
            Sizes = config.Sizes.Select(s => new FrameSize(s.Height, s.Width)).ToArray(),
            Lengths = config.Lengths.ToArray(),
        };
        options.Validate();
        return options;
    }

    public static SyntheticVideoSet Generate(SyntheticDataConfig config, ulong seed, IProgress<string>? progress = null)
    {
        var generator = new MovingShapesGenerator(OptionsFor(config), seed);
        progress?.Report($"generating {config.Samples:N0} + {config.HeldOut} moving-shapes clips");
        var train = Enumerable.Range(0, config.Samples).AsParallel().AsOrdered().Select(i => generator.Generate(i)).ToArray();
        var heldOut = Enumerable.Range(config.Samples, config.HeldOut).Select(i => generator.Generate(i)).ToArray();
        return new SyntheticVideoSet(generator, train, heldOut);
    }
}
