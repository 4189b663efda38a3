using Sora.Torch.Optim;

namespace Sora.Torch.Tests.Optim;

public class SgdTests
{
    [Fact]
    public void Plain_sgd_subtracts_the_learning_rate_times_the_gradient_and_the_rate_can_change_every_step()
    {
        using var scope = Tensor.NewDisposeScope();
        var p = Tensor.FromArray(new double[] { 1, 2 }).RequiresGrad_();
        using var sgd = new Sgd([p], learningRate: 0.1);
        p.SetGrad(Tensor.FromArray(new double[] { 1, -1 }));
        sgd.Step();
        p.ToArray<double>().Should().Equal(0.9, 2.1);

        sgd.LearningRate = 0.5;
        sgd.Step();
        p.ToArray<double>()[0].Should().BeApproximately(0.4, 1e-15);
    }

    [Fact]
    public void Momentum_and_nesterov_follow_torch_formulas()
    {
        using var scope = Tensor.NewDisposeScope();
        var p = Tensor.FromArray(new double[] { 0 }).RequiresGrad_();
        using var sgd = new Sgd([p], learningRate: 1, momentum: 0.5);
        p.SetGrad(Tensor.FromArray(new double[] { 1 }));
        sgd.Step();
        p.ItemDouble().Should().Be(-1, "first step: buffer = g");
        sgd.Step();
        p.ItemDouble().Should().Be(-2.5, "second step: buffer = 0.5·1 + 1 = 1.5");
        sgd.GetState(0)!.Tensors["momentum_buffer"].ItemDouble().Should().Be(1.5);

        var q = Tensor.FromArray(new double[] { 0 }).RequiresGrad_();
        using var nesterov = new Sgd([q], learningRate: 1, momentum: 0.5, nesterov: true);
        q.SetGrad(Tensor.FromArray(new double[] { 1 }));
        nesterov.Step();
        q.ItemDouble().Should().Be(-1.5, "nesterov: g + momentum·buffer = 1 + 0.5");
    }

    [Fact]
    public void Weight_decay_adds_a_multiple_of_the_parameter_to_the_gradient()
    {
        using var scope = Tensor.NewDisposeScope();
        var p = Tensor.FromArray(new double[] { 2 }).RequiresGrad_();
        using var sgd = new Sgd([p], learningRate: 0.1, weightDecay: 0.5);
        p.SetGrad(Tensor.FromArray(new double[] { 0 }));
        sgd.Step();
        p.ItemDouble().Should().BeApproximately(1.9, 1e-15);
    }
}
