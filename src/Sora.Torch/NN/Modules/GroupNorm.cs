namespace Sora.Torch.NN;

/// <summary>Group normalisation over channels (dim 1), with optional learned per-channel scale and shift.</summary>
public sealed class GroupNorm : Module<Tensor, Tensor>
{
    public GroupNorm(long groups, long channels, double eps = 1e-5, bool affine = true)
    {
        if (groups <= 0 || channels % groups != 0)
        {
            throw new ArgumentException($"GroupNorm: {channels} channels cannot be split into {groups} groups", nameof(groups));
        }

        Groups = groups;
        Eps = eps;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones([channels]));
            Bias = RegisterParameter("bias", Tensor.Zeros([channels]));
        }
    }

    public long Groups { get; }

    public double Eps { get; }

    public Tensor? Weight { get; }

    public Tensor? Bias { get; }

    public override Tensor Forward(Tensor input) => Functional.GroupNorm(input, Groups, Weight, Bias, Eps);
}
