namespace Sora.Torch.Tests.Support;

/// <summary>One row of a gradient-check table: a function and the inputs it is checked at.</summary>
/// <param name="Name">Shown as the theory's argument; unique within its table.</param>
/// <param name="Inputs">Creates the inputs (called inside the test's dispose scope).</param>
/// <param name="Function">Maps the float64 leaves to one tensor; see <see cref="GradCheck.Check"/>.</param>
internal sealed record GradCase(string Name, Func<Tensor[]> Inputs, Func<Tensor[], Tensor> Function)
{
    public static TheoryData<string> Names(IEnumerable<GradCase> cases)
    {
        var names = new TheoryData<string>();
        foreach (var gradCase in cases)
        {
            names.Add(gradCase.Name);
        }

        return names;
    }

    /// <summary>Runs the gradient check of the case called <paramref name="name"/>.</summary>
    public static void Check(IEnumerable<GradCase> cases, string name)
    {
        var gradCase = cases.Single(c => c.Name == name);
        using var scope = Tensor.NewDisposeScope();
        GradCheck.Check(gradCase.Function, gradCase.Inputs());
    }
}
