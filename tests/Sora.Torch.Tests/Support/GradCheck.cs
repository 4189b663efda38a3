namespace Sora.Torch.Tests.Support;

/// <summary>
/// Compares autograd's gradients with central finite differences, in float64, as torch.autograd.gradcheck.
/// The function must map its inputs to one tensor; the check differentiates the sum of that tensor
/// weighted by a fixed random projection, so every output element matters.
/// </summary>
internal static class GradCheck
{
    public static void Check(Func<Tensor[], Tensor> function, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3)
    {
        using var scope = Tensor.NewDisposeScope();
        var leaves = inputs.Select(x => x.To(ScalarType.Float64).Detach().RequiresGrad_(x.DType.IsFloatingPoint())).ToArray();

        Tensor projection;
        using (Tensor.NoGrad())
        {
            var probe = function(leaves);
            probe.DType.Should().Be(ScalarType.Float64, "gradcheck runs in float64");
            RandomState.ManualSeed(1234);
            projection = Tensor.Randn(probe.Shape, ScalarType.Float64);
        }

        var output = function(leaves).Mul(projection).Sum();
        output.Backward();

        for (var i = 0; i < leaves.Length; i++)
        {
            if (!leaves[i].RequiresGrad)
            {
                continue;
            }

            var analytic = leaves[i].Grad()?.ToArray<double>() ?? new double[leaves[i].NumElements];
            var numeric = Numeric(function, leaves, i, projection, eps);
            for (var j = 0; j < numeric.Length; j++)
            {
                var tolerance = atol + (rtol * Math.Abs(numeric[j]));
                Math.Abs(analytic[j] - numeric[j]).Should().BeLessThanOrEqualTo(
                    tolerance, $"d(output)/d(input {i})[{j}]: autograd gives {analytic[j]}, finite differences {numeric[j]}");
            }
        }
    }

    private static double[] Numeric(Func<Tensor[], Tensor> function, Tensor[] leaves, int index, Tensor projection, double eps)
    {
        using var noGrad = Tensor.NoGrad();
        var input = leaves[index];
        var values = input.ToArray<double>();
        var result = new double[values.Length];
        for (var j = 0; j < values.Length; j++)
        {
            result[j] = (Evaluate(j, values[j] + eps) - Evaluate(j, values[j] - eps)) / (2 * eps);
        }

        input.CopyFrom<double>(values);
        return result;

        double Evaluate(int j, double value)
        {
            using var scope = Tensor.NewDisposeScope();
            var perturbed = (double[])values.Clone();
            perturbed[j] = value;
            input.CopyFrom<double>(perturbed);
            return function(leaves).Mul(projection).Sum().ItemDouble();
        }
    }
}
