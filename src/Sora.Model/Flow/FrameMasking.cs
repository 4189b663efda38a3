using Sora.Torch;

namespace Sora.Model.Flow;

/// <summary>
/// Chooses latent frames to keep clean during training, so the model learns image-to-video (first frame
/// given), extension forward (a prefix given) and backward (a suffix given), and infilling (a random subset).
/// Draws from libtorch's generator, so it is reproducible under the run's seed.
/// </summary>
public static class FrameMasking
{
    /// <summary>(N, T) bool: for each sample, with probability p, one of the four patterns; never every frame; none for T = 1.</summary>
    public static Tensor Sample(long samples, long frames, double probability)
    {
        var mask = new bool[samples * frames];
        if (frames > 1 && probability > 0)
        {
            using var scope = Tensor.NewDisposeScope();
            var draws = Tensor.Rand([samples, 3], ScalarType.Float64).ToArray<double>();
            for (var i = 0; i < samples; i++)
            {
                if (draws[i * 3] >= probability)
                {
                    continue;
                }

                var pattern = (int)(draws[(i * 3) + 1] * 4);
                var count = 1 + (long)(draws[(i * 3) + 2] * (frames - 1));
                var row = mask.AsSpan((int)(i * frames), (int)frames);
                switch (pattern)
                {
                    case 0:
                        row[0] = true;
                        break;
                    case 1:
                        row[..(int)count].Fill(true);
                        break;
                    case 2:
                        row[(int)(frames - count)..].Fill(true);
                        break;
                    default:
                        for (var f = 0; f < frames - 1; f += 2)
                        {
                            row[f] = true;
                        }

                        break;
                }
            }
        }

        return Tensor.FromSpan<bool>(mask, [samples, frames]);
    }
}
