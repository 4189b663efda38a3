using Sora.Torch;

namespace Sora.Model.Vae;

/// <summary>The terms of the VAE's training loss, as scalar tensors; call Backward on <see cref="Total"/>.</summary>
/// <param name="Total">Reconstruction + KlWeight × Kl.</param>
/// <param name="Reconstruction">Mean squared error between the reconstruction and the input, per element.</param>
/// <param name="Kl">KL(N(mean, exp(logvar)) ‖ N(0, 1)), averaged over latent elements.</param>
public sealed record VaeLoss(Tensor Total, Tensor Reconstruction, Tensor Kl);
