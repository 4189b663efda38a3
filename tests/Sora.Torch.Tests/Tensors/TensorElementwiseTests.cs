using Sora.Torch.Tests.Support;
using static Sora.Torch.Tests.Support.TestData;

namespace Sora.Torch.Tests.Tensors;

[Collection(GlobalRandomCollection.Name)]
public class TensorElementwiseTests
{
    // Inputs keep away from the points where an op is not differentiable: no ties for maximum and
    // minimum, no element within 0.1 of a clamp bound or of zero for abs and relu.
    private static readonly GradCase[] GradCases =
    [
        new("add broadcast", () => [Uniform([2, 3], 1), Uniform([3], 2)], x => x[0].Add(x[1])),
        new("add scalar", () => [Uniform([2, 3], 1)], x => x[0].Add(2.5)),
        new("sub broadcast", () => [Uniform([2, 1], 1), Uniform([1, 3], 2)], x => x[0].Sub(x[1])),
        new("sub scalar", () => [Uniform([2, 3], 1)], x => x[0].Sub(0.5)),
        new("mul broadcast", () => [Uniform([2, 3], 1), Uniform([2, 1], 2)], x => x[0].Mul(x[1])),
        new("mul scalar", () => [Uniform([2, 3], 1)], x => x[0].Mul(-1.5)),
        new("div broadcast", () => [Uniform([2, 3], 1), Positive([3], 2)], x => x[0].Div(x[1])),
        new("div scalar", () => [Uniform([2, 3], 1)], x => x[0].Div(4)),
        new("pow tensor", () => [Positive([2, 3], 1), Uniform([2, 3], 2)], x => x[0].Pow(x[1])),
        new("pow broadcast exponent", () => [Positive([2, 3], 1), Uniform([3], 2)], x => x[0].Pow(x[1])),
        new("pow scalar", () => [Positive([2, 3], 1)], x => x[0].Pow(2.5)),
        new("pow integer scalar", () => [Uniform([2, 3], 1)], x => x[0].Pow(3)),
        new("rsub", () => [Uniform([2, 3], 1)], x => x[0].RSub(2)),
        new("rdiv", () => [Positive([2, 3], 1)], x => x[0].RDiv(3.0)),
        new("rpow", () => [Uniform([2, 3], 1)], x => x[0].RPow(2.5)),
        new("maximum", () => [Float64([0.1, -0.5, 0.9, 0.3], 2, 2), Float64([0.4, -0.7, 0.2, 0.8], 2, 2)], x => x[0].Maximum(x[1])),
        new("minimum", () => [Float64([0.1, -0.5, 0.9, 0.3], 2, 2), Float64([0.4, -0.7, 0.2, 0.8], 2, 2)], x => x[0].Minimum(x[1])),
        new("maximum broadcast", () => [Float64([0.1, -0.5, 0.9, 0.3], 2, 2), Float64([0.4, -0.7], 2)], x => x[0].Maximum(x[1])),
        new("maximum scalar", () => [Float64([-0.8, -0.2, 0.3, 0.9], 4)], x => x[0].Maximum(0.0)),
        new("minimum scalar", () => [Float64([-0.8, -0.2, 0.3, 0.9], 4)], x => x[0].Minimum(0.0)),
        new("masked_fill", () => [Uniform([2, 3], 1)], x => x[0].MaskedFill(Bool([true, false, false, true, true, false], 2, 3), 7.0)),
        new("masked_fill broadcast mask", () => [Uniform([2, 3], 1)], x => x[0].MaskedFill(Bool([false, true, false], 3), -1.0)),
        new("clamp", () => [Float64([-2, -0.5, 0.3, 1.7, 0.9, -1.2], 6)], x => x[0].Clamp(-1.0, 1.0)),
        new("clamp min", () => [Float64([-2, -0.5, 0.3, 1.7, 0.9, -1.2], 6)], x => x[0].Clamp(min: 0.0)),
        new("clamp max", () => [Float64([-2, -0.5, 0.3, 1.7, 0.9, -1.2], 6)], x => x[0].Clamp(max: 0.0)),
        new("sqrt", () => [Positive([2, 3], 1)], x => x[0].Sqrt()),
        new("rsqrt", () => [Positive([2, 3], 1)], x => x[0].Rsqrt()),
        new("exp", () => [Uniform([2, 3], 1)], x => x[0].Exp()),
        new("log", () => [Positive([2, 3], 1)], x => x[0].Log()),
        new("sin", () => [Uniform([2, 3], 1, -3, 3)], x => x[0].Sin()),
        new("cos", () => [Uniform([2, 3], 1, -3, 3)], x => x[0].Cos()),
        new("tanh", () => [Uniform([2, 3], 1, -2, 2)], x => x[0].Tanh()),
        new("sigmoid", () => [Uniform([2, 3], 1, -3, 3)], x => x[0].Sigmoid()),
        new("gelu", () => [Uniform([2, 3], 1, -3, 3)], x => x[0].Gelu()),
        new("gelu tanh", () => [Uniform([2, 3], 1, -3, 3)], x => x[0].Gelu(tanhApproximation: true)),
        new("silu", () => [Uniform([2, 3], 1, -3, 3)], x => x[0].Silu()),
        new("relu", () => [Float64([-0.8, -0.2, 0.3, 0.9], 4)], x => x[0].Relu()),
        new("neg", () => [Uniform([2, 3], 1)], x => x[0].Neg()),
        new("abs", () => [Float64([-0.8, -0.2, 0.3, 0.9], 4)], x => x[0].Abs()),
        new("square", () => [Uniform([2, 3], 1)], x => x[0].Square()),
        new("reciprocal", () => [Positive([2, 3], 1)], x => x[0].Reciprocal()),
        new("erf", () => [Uniform([2, 3], 1)], x => x[0].Erf()),
        new("erfinv", () => [Uniform([2, 3], 1, -0.8, 0.8)], x => x[0].Erfinv()),
        new("log1p", () => [Positive([2, 3], 1)], x => x[0].Log1p()),
        new("expm1", () => [Uniform([2, 3], 1)], x => x[0].Expm1()),
        new("atan2", () => [Uniform([2, 3], 1), Positive([2, 3], 2)], x => x[0].Atan2(x[1])),
        new("softmax last dim", () => [Uniform([2, 3], 1, -2, 2)], x => x[0].Softmax(-1)),
        new("softmax dim 0", () => [Uniform([2, 3], 1, -2, 2)], x => x[0].Softmax(0)),
        new("log_softmax", () => [Uniform([2, 3], 1, -2, 2)], x => x[0].LogSoftmax(1)),
        new("clone", () => [Uniform([2, 3], 1)], x => x[0].Clone().Mul(x[0])),

        // In-place forms on a non-leaf copy: autograd must see through the mutation.
        new("add_", () => [Uniform([2, 3], 1), Uniform([3], 2)], x => x[0].Mul(1.0).Add_(x[1])),
        new("add_ scaled", () => [Uniform([2, 3], 1), Uniform([2, 3], 2)], x => x[0].Mul(1.0).Add_(x[1], -2.0)),
        new("sub_", () => [Uniform([2, 3], 1), Uniform([2, 3], 2)], x => x[0].Mul(1.0).Sub_(x[1])),
        new("mul_", () => [Uniform([2, 3], 1), Uniform([2, 3], 2)], x => x[0].Mul(1.0).Mul_(x[1])),
        new("div_", () => [Uniform([2, 3], 1), Positive([2, 3], 2)], x => x[0].Mul(1.0).Div_(x[1])),
        new("pow_", () => [Positive([2, 3], 1), Uniform([2, 3], 2)], x => x[0].Mul(1.0).Pow_(x[1])),
        new("scalar add_ mul_ pow_", () => [Positive([2, 3], 1)], x => x[0].Mul(1.0).Add_(1).Mul_(2).Pow_(1.5)),
        new("maximum_", () => [Float64([0.1, -0.5, 0.9, 0.3], 2, 2), Float64([0.4, -0.7, 0.2, 0.8], 2, 2)], x => x[0].Mul(1.0).Maximum_(x[1])),
        new("minimum_", () => [Float64([0.1, -0.5, 0.9, 0.3], 2, 2), Float64([0.4, -0.7, 0.2, 0.8], 2, 2)], x => x[0].Mul(1.0).Minimum_(x[1])),
        new("lerp_", () => [Uniform([2, 3], 1), Uniform([2, 3], 2)], x => x[0].Mul(1.0).Lerp_(x[1], 0.3)),
        new("addcmul_", () => [Uniform([2, 3], 1), Uniform([2, 3], 2), Uniform([2, 3], 3)], x => x[0].Mul(1.0).Addcmul_(x[1], x[2], 0.5)),
        new("addcdiv_", () => [Uniform([2, 3], 1), Uniform([2, 3], 2), Positive([2, 3], 3)], x => x[0].Mul(1.0).Addcdiv_(x[1], x[2], -2)),
        new("clamp_", () => [Float64([-2, -0.5, 0.3, 1.7, 0.9, -1.2], 6)], x => x[0].Mul(1.0).Clamp_(-1.0, 1.0)),
        new("masked_fill_", () => [Uniform([2, 3], 1)], x => x[0].Mul(1.0).MaskedFill_(Bool([true, false, false, true, true, false], 2, 3), 7.0)),
        new("copy_", () => [Uniform([2, 3], 1), Uniform([3], 2)], x => x[0].Mul(1.0).Copy_(x[1].Mul(2.0))),
        new("neg_", () => [Uniform([2, 3], 1)], x => x[0].Mul(1.0).Neg_()),
        new("abs_", () => [Float64([-0.8, -0.2, 0.3, 0.9], 4)], x => x[0].Mul(1.0).Abs_()),
        new("exp_", () => [Uniform([2, 3], 1)], x => x[0].Mul(1.0).Exp_()),
        new("log_", () => [Positive([2, 3], 1)], x => x[0].Mul(1.0).Log_()),
        new("sqrt_", () => [Positive([2, 3], 1)], x => x[0].Mul(1.0).Sqrt_()),
        new("rsqrt_", () => [Positive([2, 3], 1)], x => x[0].Mul(1.0).Rsqrt_()),
        new("sin_", () => [Uniform([2, 3], 1, -3, 3)], x => x[0].Mul(1.0).Sin_()),
        new("cos_", () => [Uniform([2, 3], 1, -3, 3)], x => x[0].Mul(1.0).Cos_()),
        new("tanh_", () => [Uniform([2, 3], 1, -2, 2)], x => x[0].Mul(1.0).Tanh_()),
        new("sigmoid_", () => [Uniform([2, 3], 1, -3, 3)], x => x[0].Mul(1.0).Sigmoid_()),
        new("relu_", () => [Float64([-0.8, -0.2, 0.3, 0.9], 4)], x => x[0].Mul(1.0).Relu_()),
        new("silu_", () => [Uniform([2, 3], 1, -3, 3)], x => x[0].Mul(1.0).Silu_()),
        new("square_", () => [Uniform([2, 3], 1)], x => x[0].Mul(1.0).Square_()),
        new("reciprocal_", () => [Positive([2, 3], 1)], x => x[0].Mul(1.0).Reciprocal_()),
        new("erfinv_", () => [Uniform([2, 3], 1, -0.8, 0.8)], x => x[0].Mul(1.0).Erfinv_()),
    ];

    public static TheoryData<string> GradCaseNames => GradCase.Names(GradCases);

    [Theory]
    [MemberData(nameof(GradCaseNames))]
    public void Gradients_match_finite_differences(string op) => GradCase.Check(GradCases, op);

    [Fact]
    public void Arithmetic_broadcasts_tensors_and_takes_scalars()
    {
        using var scope = Tensor.NewDisposeScope();
        var a = Float64([1, 2, 3, 4, 5, 6], 2, 3);
        var b = Float64([10, 20, 30], 3);

        a.Add(b).ShouldApproximate([2, 3], [11, 22, 33, 14, 25, 36]);
        a.Sub(b).ShouldApproximate([2, 3], [-9, -18, -27, -6, -15, -24]);
        a.Mul(b).ShouldApproximate([2, 3], [10, 40, 90, 40, 100, 180]);
        b.Div(a).ShouldApproximate([2, 3], [10, 10, 10, 2.5, 4, 5]);
        a.Add(Float64([100, 200], 2, 1)).ShouldApproximate([2, 3], [101, 102, 103, 204, 205, 206]);

        a.Add(1).ShouldApproximate([2, 3, 4, 5, 6, 7]);
        a.Sub(1.5).ShouldApproximate([-0.5, 0.5, 1.5, 2.5, 3.5, 4.5]);
        a.Mul(2).ShouldApproximate([2, 4, 6, 8, 10, 12]);
        a.Div(4).ShouldApproximate([0.25, 0.5, 0.75, 1, 1.25, 1.5]);
    }

    [Fact]
    public void Integer_tensors_keep_their_type_except_under_true_division()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Int64([7, -7], 2);
        x.Add(1).DType.Should().Be(ScalarType.Int64);
        x.Mul(2).ToArray<long>().Should().Equal(14, -14);
        x.Add(0.5).DType.Should().Be(ScalarType.Float32, "an integral tensor and a floating scalar promote to the default float");

        var quotient = x.Div(2);
        quotient.DType.Should().Be(ScalarType.Float32);
        quotient.ShouldApproximate([3.5, -3.5]);
    }

    [Fact]
    public void Reversed_scalar_ops_put_the_scalar_on_the_left()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 4], 3);
        x.RSub(10).ShouldApproximate([9, 8, 6]);
        x.RDiv(8).ShouldApproximate([8, 4, 2]);
        x.RPow(3).ShouldApproximate([3, 9, 81]);
        Int64([1, 2, 4], 3).RDiv(2).ShouldApproximate([2, 1, 0.5]);
    }

    [Fact]
    public void Pow_takes_scalar_and_tensor_exponents()
    {
        using var scope = Tensor.NewDisposeScope();
        Float64([1, 2, 3], 3).Pow(2).ShouldApproximate([1, 4, 9]);
        Float64([4, 9], 2).Pow(0.5).ShouldApproximate([2, 3]);
        Float64([2, 3], 2).Pow(Float64([3, 2], 2)).ShouldApproximate([8, 9]);
        Float64([2, 3], 2, 1).Pow(Float64([1, 2], 2)).ShouldApproximate([2, 2], [2, 4, 3, 9]);
        Int64([2, 3], 2).Pow(2).ToArray<long>().Should().Equal(4, 9);
    }

    [Fact]
    public void Maximum_and_minimum_pick_elementwise()
    {
        using var scope = Tensor.NewDisposeScope();
        var a = Float64([1, 5, -2], 3);
        var b = Float64([3, 4, -1], 3);
        a.Maximum(b).ShouldApproximate([3, 5, -1]);
        a.Minimum(b).ShouldApproximate([1, 4, -2]);
        a.Maximum(0).ShouldApproximate([1, 5, 0]);
        a.Minimum(2).ShouldApproximate([1, 2, -2]);
        a.Maximum(Float64([0], 1)).ShouldApproximate([1, 5, 0]);

        // NaN from either side propagates, in place as out of place.
        var withNan = Float64([double.NaN, 1], 2);
        var otherNan = Float64([1, double.NaN], 2);
        withNan.Maximum(otherNan).IsNan().ToArray<bool>().Should().Equal(true, true);
        withNan.Clone().Maximum_(otherNan).IsNan().ToArray<bool>().Should().Equal(true, true);
        withNan.Clone().Minimum_(otherNan).IsNan().ToArray<bool>().Should().Equal(true, true);
    }

    [Fact]
    public void Comparisons_produce_bool_tensors()
    {
        using var scope = Tensor.NewDisposeScope();
        var a = Float64([1, 2, 3], 3);
        var b = Float64([3, 2, 1], 3);

        var eq = a.Eq(b);
        eq.DType.Should().Be(ScalarType.Bool);
        eq.ToArray<bool>().Should().Equal(false, true, false);
        a.Ne(b).ToArray<bool>().Should().Equal(true, false, true);
        a.Lt(b).ToArray<bool>().Should().Equal(true, false, false);
        a.Le(b).ToArray<bool>().Should().Equal(true, true, false);
        a.Gt(b).ToArray<bool>().Should().Equal(false, false, true);
        a.Ge(b).ToArray<bool>().Should().Equal(false, true, true);

        a.Eq(2).ToArray<bool>().Should().Equal(false, true, false);
        a.Ne(2).ToArray<bool>().Should().Equal(true, false, true);
        a.Lt(2).ToArray<bool>().Should().Equal(true, false, false);
        a.Le(2).ToArray<bool>().Should().Equal(true, true, false);
        a.Gt(2).ToArray<bool>().Should().Equal(false, false, true);
        var ge = a.Ge(2);
        ge.DType.Should().Be(ScalarType.Bool);
        ge.ToArray<bool>().Should().Equal(false, true, true);
    }

    [Fact]
    public void Logical_ops_combine_bool_tensors()
    {
        using var scope = Tensor.NewDisposeScope();
        var p = Bool([true, true, false, false], 4);
        var q = Bool([true, false, true, false], 4);
        p.LogicalAnd(q).ToArray<bool>().Should().Equal(true, false, false, false);
        p.LogicalOr(q).ToArray<bool>().Should().Equal(true, true, true, false);
        p.LogicalNot().ToArray<bool>().Should().Equal(false, false, true, true);
        Float64([0, 2], 2).LogicalNot().ToArray<bool>().Should().Equal(true, false);
    }

    [Fact]
    public void Remainder_and_floor_divide_round_toward_negative_infinity()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Int64([-7, 7, -3], 3);
        x.Remainder(2).ToArray<long>().Should().Equal(1, 1, 1);
        x.FloorDivide(2).ToArray<long>().Should().Equal(-4, 3, -2);
        x.Remainder(Int64([3, -3, 5], 3)).ToArray<long>().Should().Equal(2, -2, 2);
        x.FloorDivide(Int64([3, -3, 5], 3)).ToArray<long>().Should().Equal(-3, -3, -1);
        Float64([1, -1], 2).Atan2(Float64([1, 1], 2)).ShouldApproximate([Math.PI / 4, -Math.PI / 4]);
    }

    [Fact]
    public void Unary_math_matches_known_values()
    {
        using var scope = Tensor.NewDisposeScope();
        Float64([0, Math.Log(2)], 2).Exp().ShouldApproximate([1, 2]);
        Float64([1, Math.E], 2).Log().ShouldApproximate([0, 1]);
        Float64([4, 9], 2).Sqrt().ShouldApproximate([2, 3]);
        Float64([4, 16], 2).Rsqrt().ShouldApproximate([0.5, 0.25]);
        Float64([Math.PI / 2, Math.PI / 6], 2).Sin().ShouldApproximate([1, 0.5]);
        Float64([0, Math.PI / 3], 2).Cos().ShouldApproximate([1, 0.5]);
        Float64([0, Math.Log(3) / 2], 2).Tanh().ShouldApproximate([0, 0.5]);
        Float64([0, Math.Log(3)], 2).Sigmoid().ShouldApproximate([0.5, 0.75]);
        Float64([-1, 0, 2], 3).Relu().ShouldApproximate([0, 0, 2]);
        Float64([-2, 0, 3], 3).Neg().ShouldApproximate([2, 0, -3]);
        Float64([-2, 0, 3], 3).Abs().ShouldApproximate([2, 0, 3]);
        Float64([-2, 0, 3], 3).Square().ShouldApproximate([4, 0, 9]);
        Float64([-2, 0, 3], 3).Sign().ShouldApproximate([-1, 0, 1]);
        Float64([2, 4], 2).Reciprocal().ShouldApproximate([0.5, 0.25]);
        Float64([0, 0.5], 2).Erf().ShouldApproximate([0, 0.5204998778130465]);
        Float64([0, 0.5204998778130465], 2).Erfinv().ShouldApproximate([0, 0.5]);
        Float64([0, Math.E - 1], 2).Log1p().ShouldApproximate([0, 1]);
        Float64([0, Math.Log(3)], 2).Expm1().ShouldApproximate([0, 2]);
    }

    [Fact]
    public void Rounding_follows_torch_conventions()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([-1.5, -0.5, 0.5, 1.5, 2.5, 2.7], 6);
        x.Floor().ShouldApproximate([-2, -1, 0, 1, 2, 2]);
        x.Ceil().ShouldApproximate([-1, -0, 1, 2, 3, 3]);
        x.Round().ShouldApproximate([-2, -0, 0, 2, 2, 3], 0);
    }

    [Fact]
    public void Activations_match_their_definitions()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([-1, 0, 1], 3);

        // Exact GELU is x·Φ(x); Φ(1) = 0.8413447460685429.
        x.Gelu().ShouldApproximate([-(1 - 0.8413447460685429), 0, 0.8413447460685429]);

        var tanhGelu = (double v) => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + (0.044715 * v * v * v))));
        x.Gelu(tanhApproximation: true).ShouldApproximate([tanhGelu(-1), 0, tanhGelu(1)]);

        var silu = (double v) => v / (1 + Math.Exp(-v));
        x.Silu().ShouldApproximate([silu(-1), 0, silu(1)]);
    }

    [Fact]
    public void Nan_and_infinity_are_detected()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([double.NaN, double.PositiveInfinity, 1, double.NegativeInfinity], 4);
        x.IsNan().ToArray<bool>().Should().Equal(true, false, false, false);
        x.IsFinite().ToArray<bool>().Should().Equal(false, false, true, false);
    }

    [Fact]
    public void Softmax_normalises_along_the_given_dim()
    {
        using var scope = Tensor.NewDisposeScope();
        Float64([0, Math.Log(2)], 2).Softmax(0).ShouldApproximate([1.0 / 3, 2.0 / 3]);

        var x = Float64([0, Math.Log(2), Math.Log(3), 0], 2, 2);
        x.Softmax(1).ShouldApproximate([2, 2], [1.0 / 3, 2.0 / 3, 3.0 / 4, 1.0 / 4]);
        x.Softmax(0).ShouldApproximate([2, 2], [1.0 / 4, 2.0 / 3, 3.0 / 4, 1.0 / 3]);
        x.LogSoftmax(-1).ShouldApproximate([2, 2], [Math.Log(1.0 / 3), Math.Log(2.0 / 3), Math.Log(3.0 / 4), Math.Log(1.0 / 4)]);

        // Large logits must not overflow.
        Float64([1000, 1000], 2).Softmax(0).ShouldApproximate([0.5, 0.5]);
    }

    [Fact]
    public void Clamp_limits_to_the_bounds_given()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([-2, -0.5, 0.5, 2], 4);
        x.Clamp(-1, 1).ShouldApproximate([-1, -0.5, 0.5, 1]);
        x.Clamp(min: 0).ShouldApproximate([0, 0, 0.5, 2]);
        x.Clamp(max: 0).ShouldApproximate([-2, -0.5, 0, 0]);
        x.Invoking(t => t.Clamp()).Should().Throw<ArgumentException>().WithMessage("*min, a max, or both*");
    }

    [Fact]
    public void Masked_fill_writes_the_value_where_the_mask_is_true()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3, 4], 2, 2);
        x.MaskedFill(Bool([true, false, false, true], 2, 2), -1).ShouldApproximate([-1, 2, 3, -1]);
        x.MaskedFill(Bool([false, true], 2), 0).ShouldApproximate([1, 0, 3, 0]);
        x.ShouldApproximate([1, 2, 3, 4], because: "the out-of-place form leaves its input alone");
    }

    [Fact]
    public void Conversions_and_clones_copy()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1.7, -1.7], 2);
        x.To(ScalarType.Int64).ToArray<long>().Should().Equal(1, -1);
        x.To(ScalarType.Float32).ToArray<float>().Should().Equal(1.7f, -1.7f);

        var clone = x.Clone();
        clone.SharesStorageWith(x).Should().BeFalse();
        clone.Add_(1);
        x.ShouldApproximate([1.7, -1.7]);
    }

    [Fact]
    public void Equal_needs_same_shape_dtype_and_values_while_AllClose_allows_tolerance()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2], 2);
        x.Equal(Float64([1, 2], 2)).Should().BeTrue();
        x.Equal(Float64([1, 2.000001], 2)).Should().BeFalse();
        x.Equal(x.To(ScalarType.Float32)).Should().BeFalse();
        x.Equal(Float64([1, 2], 1, 2)).Should().BeFalse();

        x.AllClose(Float64([1, 2.000001], 2)).Should().BeTrue();
        x.AllClose(Float64([1, 2.1], 2)).Should().BeFalse();
        x.AllClose(Float64([1, 2.1], 2), atol: 0.2).Should().BeTrue();
    }

    [Fact]
    public void In_place_arithmetic_mutates_and_returns_the_same_tensor()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3], 3);
        var y = Float64([1, 1, 2], 3);

        x.Add_(y).Should().BeSameAs(x);
        x.ShouldApproximate([2, 3, 5]);
        x.Sub_(y).Should().BeSameAs(x);
        x.ShouldApproximate([1, 2, 3]);
        x.Mul_(y).Should().BeSameAs(x);
        x.ShouldApproximate([1, 2, 6]);
        x.Div_(y).Should().BeSameAs(x);
        x.ShouldApproximate([1, 2, 3]);
        x.Pow_(y).Should().BeSameAs(x);
        x.ShouldApproximate([1, 2, 9]);
        x.Maximum_(Float64([4, 0, 0], 3)).Should().BeSameAs(x);
        x.ShouldApproximate([4, 2, 9]);
        x.Minimum_(Float64([5, 5, 5], 3)).Should().BeSameAs(x);
        x.ShouldApproximate([4, 2, 5]);

        x.Add_(1).Should().BeSameAs(x);
        x.ShouldApproximate([5, 3, 6]);
        x.Sub_(1).Should().BeSameAs(x);
        x.Mul_(2).Should().BeSameAs(x);
        x.Div_(4).Should().BeSameAs(x);
        x.ShouldApproximate([2, 1, 2.5]);
        x.Pow_(2).Should().BeSameAs(x);
        x.ShouldApproximate([4, 1, 6.25]);

        x.Add_(y, alpha: -2).Should().BeSameAs(x);
        x.ShouldApproximate([2, -1, 2.25]);
    }

    [Fact]
    public void In_place_updates_write_through_views()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([1, 2, 3, 4], 2, 2);
        var row = x.Select(0, 1);
        row.Mul_(10);
        x.ShouldApproximate([1, 2, 30, 40]);
    }

    [Fact]
    public void Fused_in_place_updates_compute_their_formulas()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([0, 10], 2);
        x.Lerp_(Float64([10, 20], 2), 0.25).Should().BeSameAs(x);
        x.ShouldApproximate([2.5, 12.5]);

        var a = Float64([1, 2], 2);
        var b = Float64([3, 4], 2);
        x.Addcmul_(a, b, 2).Should().BeSameAs(x);
        x.ShouldApproximate([2.5 + 6, 12.5 + 16]);
        x.Addcdiv_(a, b, -3).Should().BeSameAs(x);
        x.ShouldApproximate([8.5 - 1, 28.5 - 1.5]);
    }

    [Fact]
    public void In_place_clamp_masked_fill_fill_zero_and_copy_mutate()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([-2, 0.5, 3], 3);
        x.Clamp_(-1, 1).Should().BeSameAs(x);
        x.ShouldApproximate([-1, 0.5, 1]);
        x.Clamp_(min: 0).Should().BeSameAs(x);
        x.ShouldApproximate([0, 0.5, 1]);

        x.MaskedFill_(Bool([false, true, false], 3), 9).Should().BeSameAs(x);
        x.ShouldApproximate([0, 9, 1]);

        x.Fill_(4).Should().BeSameAs(x);
        x.ShouldApproximate([4, 4, 4]);
        x.Zero_().Should().BeSameAs(x);
        x.ShouldApproximate([0, 0, 0]);

        x.Copy_(Int64([7, 8, 9], 3)).Should().BeSameAs(x);
        x.DType.Should().Be(ScalarType.Float64, "copy converts into the destination's type");
        x.ShouldApproximate([7, 8, 9]);
        x.Copy_(Float64([1], 1)).Should().BeSameAs(x);
        x.ShouldApproximate([1, 1, 1], because: "copy broadcasts its source");
    }

    [Fact]
    public void In_place_unary_ops_mutate()
    {
        using var scope = Tensor.NewDisposeScope();
        var x = Float64([0, Math.Log(4)], 2);
        x.Exp_().Should().BeSameAs(x);
        x.ShouldApproximate([1, 4]);
        x.Sqrt_().Should().BeSameAs(x);
        x.ShouldApproximate([1, 2]);
        x.Reciprocal_().Neg_().Should().BeSameAs(x);
        x.ShouldApproximate([-1, -0.5]);
        x.Relu_().Should().BeSameAs(x);
        x.ShouldApproximate([0, 0]);
    }

    [Fact]
    public void Random_fills_are_reproducible_under_a_seed()
    {
        using var scope = Tensor.NewDisposeScope();
        RandomState.ManualSeed(42);
        var x = Tensor.Zeros([2000], ScalarType.Float64);
        x.Uniform_(2, 3).Should().BeSameAs(x);
        var first = x.ToArray<double>();
        first.Should().OnlyContain(v => v >= 2 && v < 3);
        first.Distinct().Should().HaveCountGreaterThan(1900);

        RandomState.ManualSeed(42);
        Tensor.Zeros([2000], ScalarType.Float64).Uniform_(2, 3).ToArray<double>().Should().Equal(first);

        RandomState.ManualSeed(7);
        var y = Tensor.Zeros([20000], ScalarType.Float64);
        y.Normal_(5, 0.5).Should().BeSameAs(y);
        var normal = y.ToArray<double>();
        normal.Average().Should().BeApproximately(5, 0.02);
        Math.Sqrt(normal.Select(v => (v - 5) * (v - 5)).Average()).Should().BeApproximately(0.5, 0.02);

        RandomState.ManualSeed(7);
        Tensor.Zeros([20000], ScalarType.Float64).Normal_(5, 0.5).ToArray<double>().Should().Equal(normal);
    }

    [Fact]
    public void A_tensor_already_on_the_device_asked_for_is_returned_itself()
    {
        using var scope = Tensor.NewDisposeScope();
        var host = Tensor.Ones([2, 3]);
        host.OnDevice(Device.Cpu).Should().BeSameAs(host, "a batch on the CPU trains as it was drawn, without a copy");
        host.IsPinned.Should().BeFalse();
    }

    [SystemLibtorchFact]
    public void Pinned_memory_on_a_cpu_only_build_is_refused_naming_the_build()
    {
        using var scope = Tensor.NewDisposeScope();
        var act = () => Tensor.Ones([2]).PinMemory();
        act.Should().Throw<TorchException>().WithMessage("*needs a shim built against a CUDA libtorch*");
    }
}
