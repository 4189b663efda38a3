using Sora.Torch.Native;

namespace Sora.Torch.Optim;

/// <summary>Adam with decoupled weight decay (Loshchilov and Hutter), the arithmetic of torch.optim.AdamW.</summary>
public sealed class AdamW : Optimizer
{
    private static readonly string[] s_stateNames = ["exp_avg", "exp_avg_sq"];

    public AdamW(IEnumerable<Tensor> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weightDecay = 1e-2)
        : base(parameters, learningRate)
    {
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(beta1), $"betas must be in [0, 1), got ({beta1}, {beta2})");
        }

        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
    }

    public double Beta1 { get; }

    public double Beta2 { get; }

    public double Eps { get; }

    public double WeightDecay { get; set; }

    public override IReadOnlyList<string> StateNames => s_stateNames;

    public override IReadOnlyDictionary<string, double> Hyperparameters => new Dictionary<string, double>
    {
        ["beta1"] = Beta1,
        ["beta2"] = Beta2,
        ["eps"] = Eps,
        ["weight_decay"] = WeightDecay,
    };

    public override unsafe void Step() => ForEachGroup(group =>
    {
        fixed (IntPtr* p = group.Handles[0])
        fixed (IntPtr* g = group.Handles[1])
        fixed (IntPtr* m = group.Handles[2])
        fixed (IntPtr* v = group.Handles[3])
        {
            NativeError.Check(NativeMethods.sora_adamw_step(p, g, m, v, group.Count, LearningRate, Beta1, Beta2, Eps, WeightDecay, group.Step));
        }
    });
}
