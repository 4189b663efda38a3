namespace Sora.Torch.NN;

/// <summary>3-D convolution over (N, C, T, H, W), initialised as torch.nn.Conv3d.</summary>
public sealed class Conv3d : Module<Tensor, Tensor>
{
    private readonly (long T, long H, long W) _stride;
    private readonly (long T, long H, long W) _padding;
    private readonly (long T, long H, long W) _dilation;

    public Conv3d(long inChannels, long outChannels, (long T, long H, long W) kernelSize, (long T, long H, long W)? stride = null,
        (long T, long H, long W)? padding = null, (long T, long H, long W)? dilation = null, long groups = 1, bool bias = true)
    {
        ConvolutionInit.CheckGroups(inChannels, outChannels, groups);
        _stride = stride ?? (1, 1, 1);
        _padding = padding ?? (0, 0, 0);
        _dilation = dilation ?? (1, 1, 1);
        Groups = groups;
        Weight = RegisterParameter("weight", Tensor.Empty([outChannels, inChannels / groups, kernelSize.T, kernelSize.H, kernelSize.W]));
        Bias = bias ? RegisterParameter("bias", Tensor.Empty([outChannels])) : null;
        ConvolutionInit.Reset(Weight, Bias, fanIn: inChannels / groups * kernelSize.T * kernelSize.H * kernelSize.W);
    }

    public Conv3d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long groups = 1, bool bias = true)
        : this(inChannels, outChannels, (kernelSize, kernelSize, kernelSize), (stride, stride, stride), (padding, padding, padding), null, groups, bias)
    {
    }

    public long Groups { get; }

    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    public override Tensor Forward(Tensor input) => Functional.Conv3d(input, Weight, Bias, _stride, _padding, _dilation, Groups);
}
