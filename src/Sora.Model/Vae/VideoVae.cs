using Sora.Torch;
using Sora.Torch.NN;

namespace Sora.Model.Vae;

/// <summary>
/// The video compression network: a 3-D convolutional VAE from pixels (N, C, T, H, W) in [−1, 1] to a diagonal
/// Gaussian latent (N, c, ⌈T/tf⌉, ⌈H/sf⌉, ⌈W/sf⌉) and back. An image is a video of one frame.
/// </summary>
/// <remarks>
/// Causal in time at the granularity of the temporal factor: every convolution pads time only at the front and every
/// GroupNorm normalises each frame on its own, so latent frame j depends only on frames before tf·(j + 1), and decoded
/// frame t only on latent frames up to ⌊t / tf⌋. Clips are padded at the end (time) and bottom-right (space) with copies
/// of their last frame, row and column up to multiples of the factors, and the decoder's output is cropped back.
/// Initialisation is torch's default for every layer; with the pre-activation residual blocks and the GroupNorms
/// this trains stably with AdamW at 1e-3 without warm-up.
/// </remarks>
public sealed class VideoVae : Module<Tensor, (Tensor Reconstruction, Tensor Mean, Tensor LogVar)>
{
    // Bounds on the log-variance, as in latent diffusion: they keep exp(logvar) finite in the first steps.
    private const double MinLogVar = -30;
    private const double MaxLogVar = 20;

    public VideoVae(VaeConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Encoder = RegisterModule<Module<Tensor, Tensor>>("encoder", config.PatchStem ? new PatchVaeTower(config, decoder: false) : new VaeEncoder(config));
        Decoder = RegisterModule<Module<Tensor, Tensor>>("decoder", config.PatchStem ? new PatchVaeTower(config, decoder: true) : new VaeDecoder(config));
    }

    public VaeConfig Config { get; }

    internal Module<Tensor, Tensor> Encoder { get; }

    internal Module<Tensor, Tensor> Decoder { get; }

    /// <summary>The mean and clamped log-variance of q(z | video), each (N, latent, ⌈T/tf⌉, ⌈H/sf⌉, ⌈W/sf⌉).</summary>
    public (Tensor Mean, Tensor LogVar) Encode(Tensor video)
    {
        var (frames, height, width) = CheckInput(video, nameof(Encode), "video", Config.InputChannels);
        var (latentFrames, latentHeight, latentWidth) = Config.LatentSize(frames, height, width);
        var padFrames = (latentFrames * Config.TemporalDownsample) - frames;
        var padHeight = (latentHeight * Config.SpatialDownsample) - height;
        var padWidth = (latentWidth * Config.SpatialDownsample) - width;
        var padded = padFrames > 0 || padHeight > 0 || padWidth > 0
            ? video.Pad([0, padWidth, 0, padHeight, 0, padFrames], PaddingMode.Replicate)
            : video;
        var moments = Encoder.Forward(padded).Chunk(2, dim: 1);
        return (moments[0], moments[1].Clamp(MinLogVar, MaxLogVar));
    }

    /// <summary>
    /// Sets the log-variance half of an encoder's output bias (channels [latent, 2·latent)) to −6, σ ≈ 0.05, so early
    /// decoder inputs are not drowned in sampling noise. Every encoder head calls this.
    /// </summary>
    internal static void StartWithSmallPosteriorVariance(Conv3d output, int latentChannels)
    {
        using var logVarBias = output.Bias!.Narrow(0, latentChannels, latentChannels);
        Init.Constant_(logVarBias, -6.0);
    }

    /// <summary>
    /// A reparameterised sample mean + exp(logvar / 2)·ε; ε is <paramref name="noise"/>, or drawn from N(0, 1)
    /// with libtorch's default generator when null.
    /// </summary>
    public static Tensor Sample(Tensor mean, Tensor logVar, Tensor? noise = null)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(logVar);
        noise ??= Tensor.Randn(mean.Shape, mean.DType, mean.Device);
        return mean.Add(logVar.Mul(0.5).Exp().Mul(noise));
    }

    /// <summary>Pixels (N, C, frames, height, width) from a latent (N, latent, t, h, w); the size asked for must fit the latent.</summary>
    public Tensor Decode(Tensor latent, long frames, long height, long width)
    {
        var (latentFrames, latentHeight, latentWidth) = CheckInput(latent, nameof(Decode), "latent", Config.LatentChannels);
        CheckTarget(nameof(frames), frames, latentFrames, Config.TemporalDownsample);
        CheckTarget(nameof(height), height, latentHeight, Config.SpatialDownsample);
        CheckTarget(nameof(width), width, latentWidth, Config.SpatialDownsample);
        var pixels = Decoder.Forward(latent);
        if (frames < pixels.Size(2))
        {
            pixels = pixels.Narrow(2, 0, frames);
        }

        if (height < pixels.Size(3))
        {
            pixels = pixels.Narrow(3, 0, height);
        }

        return width < pixels.Size(4) ? pixels.Narrow(4, 0, width) : pixels;
    }

    /// <summary>Encodes, then decodes a sample of the latent in training mode or its mean in eval mode.</summary>
    public override (Tensor Reconstruction, Tensor Mean, Tensor LogVar) Forward(Tensor input) => Forward(input, noise: null);

    /// <summary>As <see cref="Forward(Tensor)"/>, with the posterior sample's ε given (the latent's shape) or drawn when null.</summary>
    public (Tensor Reconstruction, Tensor Mean, Tensor LogVar) Forward(Tensor input, Tensor? noise)
    {
        var (mean, logVar) = Encode(input);
        var latent = Training ? Sample(mean, logVar, noise) : mean;
        var shape = input.Shape;
        return (Decode(latent, shape[2], shape[3], shape[4]), mean, logVar);
    }

    /// <summary>
    /// The β-VAE loss: mean squared error plus <see cref="VaeConfig.KlWeight"/> × the mean KL to N(0, 1).
    /// </summary>
    /// <remarks>
    /// MSE rather than L1: it is the negative log-likelihood of a Gaussian decoder, so the total is a (β-weighted)
    /// evidence bound and KlWeight has a meaning; it is the quantity reported (PSNR is a function of it); and its
    /// gradient vanishes smoothly at zero error. L1 gives sharper edges, which pays off only together with the
    /// perceptual and adversarial terms that large VAEs add; without them MSE is the sounder choice.
    /// </remarks>
    /// <param name="video">(N, C, T, H, W) pixels.</param>
    /// <param name="noise">The posterior sample's ε, shaped as the latent; null to draw it.</param>
    public VaeLoss Loss(Tensor video, Tensor? noise = null)
    {
        var (reconstruction, mean, logVar) = Forward(video, noise);
        var reconstructionLoss = Functional.MseLoss(reconstruction, video);
        var kl = mean.Square().Add(logVar.Exp()).Sub(logVar).Sub(1).Mean().Mul(0.5);
        return new VaeLoss(reconstructionLoss.Add(kl.Mul(Config.KlWeight)), reconstructionLoss, kl);
    }

    private static (long Frames, long Height, long Width) CheckInput(Tensor tensor, string method, string what, int channels)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var shape = tensor.Shape;
        if (shape.Length != 5 || shape[1] != channels || shape[0] < 1 || shape[2] < 1 || shape[3] < 1 || shape[4] < 1)
        {
            throw new ArgumentException(
                $"{nameof(VideoVae)}.{method} takes a {what} shaped (N, C, T, H, W) with C = {channels} and no empty dimension, " +
                $"but got shape [{string.Join(", ", shape)}]", what);
        }

        if (!tensor.DType.IsFloatingPoint())
        {
            throw new ArgumentException($"{nameof(VideoVae)}.{method} takes a floating-point {what}, but got {tensor.DType.Name()}", what);
        }

        return (shape[2], shape[3], shape[4]);
    }

    private static void CheckTarget(string name, long value, long latentSize, long factor)
    {
        var max = latentSize * factor;
        if (value < 1 || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"must be between 1 and {max}: a latent {latentSize} long there decodes to at most {latentSize} × {factor}");
        }
    }
}
