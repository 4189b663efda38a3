namespace Sora.Checkpoint.Sharded;

/// <summary>What a checkpointed tensor belongs to: the model's weights, the optimizer's state, or the EMA weights.</summary>
public enum TensorKind
{
    /// <summary>A model parameter or buffer.</summary>
    Model,

    /// <summary>Optimizer state, named e.g. <c>optim/&lt;param&gt;/exp_avg</c>.</summary>
    Optimizer,

    /// <summary>An exponential moving average of a model parameter.</summary>
    Ema,
}

/// <summary>The manifest's spelling of <see cref="TensorKind"/>.</summary>
public static class TensorKinds
{
    /// <summary>"model", "optimizer" or "ema".</summary>
    public static string Name(this TensorKind kind) => kind switch
    {
        TensorKind.Model => "model",
        TensorKind.Optimizer => "optimizer",
        TensorKind.Ema => "ema",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown tensor kind"),
    };

    /// <summary>Parses <see cref="Name"/>'s output; null for anything else.</summary>
    public static TensorKind? Parse(string name) => name switch
    {
        "model" => TensorKind.Model,
        "optimizer" => TensorKind.Optimizer,
        "ema" => TensorKind.Ema,
        _ => null,
    };
}
