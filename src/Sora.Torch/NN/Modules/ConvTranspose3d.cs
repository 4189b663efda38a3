namespace Sora.Torch.NN;

/// <summary>Transposed 3-D convolution (learned upsampling) over (N, C, T, H, W), initialised as torch.nn.ConvTranspose3d.</summary>
public sealed class ConvTranspose3d : Module<Tensor, Tensor>
{
    private readonly (long T, long H, long W) _stride;
    private readonly (long T, long H, long W) _padding;
    private readonly (long T, long H, long W) _outputPadding;
    private readonly (long T, long H, long W) _dilation;

    public ConvTranspose3d(long inChannels, long outChannels, (long T, long H, long W) kernelSize, (long T, long H, long W)? stride = null,
        (long T, long H, long W)? padding = null, (long T, long H, long W)? outputPadding = null, long groups = 1, bool bias = true,
        (long T, long H, long W)? dilation = null)
    {
        ConvolutionInit.CheckGroups(inChannels, outChannels, groups);
        _stride = stride ?? (1, 1, 1);
        _padding = padding ?? (0, 0, 0);
        _outputPadding = outputPadding ?? (0, 0, 0);
        _dilation = dilation ?? (1, 1, 1);
        Groups = groups;
        Weight = RegisterParameter("weight", Tensor.Empty([inChannels, outChannels / groups, kernelSize.T, kernelSize.H, kernelSize.W]));
        Bias = bias ? RegisterParameter("bias", Tensor.Empty([outChannels])) : null;

        // torch computes fan_in from dim 1 of the weight, which for a transposed conv is out/groups.
        ConvolutionInit.Reset(Weight, Bias, fanIn: outChannels / groups * kernelSize.T * kernelSize.H * kernelSize.W);
    }

    public long Groups { get; }

    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    public override Tensor Forward(Tensor input) =>
        Functional.ConvTranspose3d(input, Weight, Bias, _stride, _padding, _outputPadding, Groups, _dilation);
}
