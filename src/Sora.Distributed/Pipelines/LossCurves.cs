using Sora.Distributed.Training;
using Sora.Metrics.Charts;

namespace Sora.Distributed.Pipelines;

/// <summary>The loss-curve PNG of a run: the DiT's training and held-out loss, and the VAE's training loss.</summary>
public static class LossCurves
{
    public static void Write(string path, TrainerState vae, TrainerState dit)
    {
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(dit);
        if (dit.LossHistory.Count == 0 && vae.LossHistory.Count == 0)
        {
            return; // a resumed run with no steps left to train has nothing to draw
        }

        var chart = new LineChart { Title = "loss", XLabel = "step", YLabel = "loss", LogY = true };
        if (dit.LossHistory.Count > 0)
        {
            chart.Add("dit train", Smooth(dit.LossHistory));
        }

        if (dit.HeldOutHistory.Count > 0)
        {
            chart.Add("dit held-out", dit.HeldOutHistory.Select(h => ((double)h.Step, h.Loss)));
        }

        if (vae.LossHistory.Count > 0)
        {
            chart.Add("vae train", Smooth(vae.LossHistory)); // empty when a resumed run took the VAE from the run directory
        }

        chart.WritePng(path, 960, 540);
    }

    // A moving average over 1% of the run keeps the curve readable without hiding its trend.
    private static IEnumerable<(double X, double Y)> Smooth(List<(long Step, double Loss)> history)
    {
        var window = Math.Max(1, history.Count / 100);
        double sum = 0;
        for (var i = 0; i < history.Count; i++)
        {
            sum += history[i].Loss;
            if (i >= window)
            {
                sum -= history[i - window].Loss;
            }

            yield return (history[i].Step, sum / Math.Min(i + 1, window));
        }
    }
}
