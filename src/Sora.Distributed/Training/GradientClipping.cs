using Sora.Torch;
using Sora.Torch.Optim;

namespace Sora.Distributed.Training;

/// <summary>Clips gradients by their global L2 norm, as torch.nn.utils.clip_grad_norm_.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales all gradients by min(1, maxNorm / (norm + 1e-6)) and returns the norm before clipping.
    /// A non-finite norm is returned as is, without scaling, so the caller can skip the step.
    /// </summary>
    public static double ClipByGlobalNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        using var scope = Tensor.NewDisposeScope();
        var grads = parameters.Select(p => p.Grad()).Where(g => g is not null).Select(g => g!).ToArray();
        var norm = ForEach.Norm(grads);
        if (double.IsFinite(norm) && maxNorm > 0)
        {
            var factor = maxNorm / (norm + 1e-6);
            if (factor < 1)
            {
                ForEach.Scale_(grads, factor);
            }
        }

        return norm;
    }
}
