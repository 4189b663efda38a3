using Sora.Torch.Native;

namespace Sora.Torch.Optim;

/// <summary>Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay, as torch.optim.SGD.</summary>
public sealed class Sgd : Optimizer
{
    private static readonly string[] s_momentumState = ["momentum_buffer"];

    public Sgd(IEnumerable<Tensor> parameters, double learningRate, double momentum = 0, double dampening = 0, double weightDecay = 0,
        bool nesterov = false)
        : base(parameters, learningRate)
    {
        if (nesterov && (momentum <= 0 || dampening != 0))
        {
            throw new ArgumentException("Nesterov momentum needs momentum > 0 and zero dampening", nameof(nesterov));
        }

        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
    }

    public double Momentum { get; }

    public double Dampening { get; }

    public double WeightDecay { get; }

    public bool Nesterov { get; }

    public override IReadOnlyList<string> StateNames => Momentum != 0 ? s_momentumState : [];

    public override IReadOnlyDictionary<string, double> Hyperparameters => new Dictionary<string, double>
    {
        ["momentum"] = Momentum,
        ["dampening"] = Dampening,
        ["weight_decay"] = WeightDecay,
        ["nesterov"] = Nesterov ? 1 : 0,
    };

    public override unsafe void Step() => ForEachGroup(group =>
    {
        var buffers = Momentum != 0 ? group.Handles[2] : new IntPtr[group.Count];
        fixed (IntPtr* p = group.Handles[0])
        fixed (IntPtr* g = group.Handles[1])
        fixed (IntPtr* b = buffers)
        {
            NativeError.Check(NativeMethods.sora_sgd_step(p, g, b, group.Count, LearningRate, Momentum, Dampening, WeightDecay,
                Nesterov ? 1 : 0, group.Step == 1 ? 1 : 0));
        }
    });
}
