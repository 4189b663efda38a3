using Sora.Torch.NN;
using Sora.Torch.Optim;

namespace Sora.Torch.Tests.Optim;

public class AdamWTests
{
    [Fact]
    public void Updates_match_an_independent_reference_implementation_of_adamw()
    {
        using var scope = Tensor.NewDisposeScope();
        var initial = new[] { 0.5, -1.0, 2.0 };
        var grads = new[] { new[] { 0.1, -0.2, 0.3 }, new[] { -0.4, 0.5, 0.05 }, new[] { 1.0, 1.0, -1.0 } };
        var p = Tensor.FromArray((double[])initial.Clone()).RequiresGrad_();
        using var adam = new AdamW([p], learningRate: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1);

        var expected = (double[])initial.Clone();
        var m = new double[3];
        var v = new double[3];
        for (var step = 1; step <= grads.Length; step++)
        {
            p.SetGrad(Tensor.FromArray(grads[step - 1]));
            adam.Step();
            for (var i = 0; i < 3; i++)
            {
                var g = grads[step - 1][i];
                expected[i] *= 1 - (0.01 * 0.1);
                m[i] = (0.9 * m[i]) + (0.1 * g);
                v[i] = (0.99 * v[i]) + (0.01 * g * g);
                var mHat = m[i] / (1 - Math.Pow(0.9, step));
                var vHat = v[i] / (1 - Math.Pow(0.99, step));
                expected[i] -= 0.01 * mHat / (Math.Sqrt(vHat) + 1e-8);
            }
        }

        var actual = p.ToArray<double>();
        for (var i = 0; i < 3; i++)
        {
            actual[i].Should().BeApproximately(expected[i], 1e-12);
        }

        adam.GetState(0)!.Step.Should().Be(3);
        adam.GetState(0)!.Tensors["exp_avg"].ToArray<double>()[0].Should().BeApproximately(m[0], 1e-12);
    }

    [Fact]
    public void Parameters_without_gradients_are_left_alone_and_their_step_does_not_advance()
    {
        using var scope = Tensor.NewDisposeScope();
        var a = Tensor.Ones([2]).RequiresGrad_();
        var b = Tensor.Ones([2]).RequiresGrad_();
        using var adam = new AdamW([a, b], learningRate: 0.1, weightDecay: 0);
        a.SetGrad(Tensor.Ones([2]));
        adam.Step();
        b.ToArray<float>().Should().Equal(1, 1);
        adam.GetState(1).Should().BeNull();
        adam.GetState(0)!.Step.Should().Be(1);
    }

    [Fact]
    public void State_round_trip_continues_training_bit_for_bit()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(11);
        using var model = new Sequential(new Linear(4, 8), new Linear(8, 1));
        using var adam = new AdamW(model.Parameters(), learningRate: 1e-2);
        var x = Tensor.Randn([16, 4]);
        var y = Tensor.Randn([16, 1]);

        void TrainStep(Module<Tensor, Tensor> net, Optimizer opt)
        {
            using var stepScope = Tensor.NewDisposeScope();
            opt.ZeroGrad();
            Functional.MseLoss(net.Forward(x), y).Backward();
            opt.Step();
        }

        for (var i = 0; i < 3; i++)
        {
            TrainStep(model, adam);
        }

        var weights = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        var optimizerState = adam.StateDict();
        var saved = optimizerState.Parameters.Select(s => s is null ? null : new ParameterState(s.Step, s.Tensors.ToDictionary(t => t.Key, t => t.Value.Clone()))).ToArray();

        for (var i = 0; i < 2; i++)
        {
            TrainStep(model, adam);
        }

        RandomState.ManualSeed(99);
        using var resumed = new Sequential(new Linear(4, 8), new Linear(8, 1));
        resumed.LoadStateDict(weights);
        using var resumedAdam = new AdamW(resumed.Parameters(), learningRate: 0.5);
        resumedAdam.LoadStateDict(optimizerState with { Parameters = saved });
        resumedAdam.LearningRate.Should().Be(1e-2);
        for (var i = 0; i < 2; i++)
        {
            TrainStep(resumed, resumedAdam);
        }

        foreach (var ((name, expected), (_, actual)) in model.NamedParameters().Zip(resumed.NamedParameters()))
        {
            actual.Equal(expected).Should().BeTrue($"{name} must match bit for bit after resuming");
        }
    }

    [Fact]
    public void Loading_state_with_a_wrong_shape_names_the_parameter_and_tensor()
    {
        using var scope = Tensor.NewDisposeScope();
        var p = Tensor.Ones([3]).RequiresGrad_();
        using var adam = new AdamW([p]);
        var bad = new ParameterState(1, new Dictionary<string, Tensor> { ["exp_avg"] = Tensor.Zeros([2]), ["exp_avg_sq"] = Tensor.Zeros([3]) });
        var act = () => adam.SetState(0, bad);
        act.Should().Throw<InvalidDataException>().WithMessage("*'exp_avg' of parameter 0 has shape [2]*[3]*");
    }
}
