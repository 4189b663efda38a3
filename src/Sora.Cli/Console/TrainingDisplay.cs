using System.Diagnostics;
using Sora.Data;
using Sora.Distributed.Training;
using Spectre.Console;

namespace Sora.Cli.Console;

/// <summary>
/// Shows training live: a progress bar per stage with loss, samples/s and ETA on a terminal; a plain line
/// every few seconds when the output is a file or pipe (CI logs), so progress is visible there too.
/// </summary>
internal sealed class TrainingDisplay
{
    private readonly IAnsiConsole _console;
    private readonly bool _interactive;
    private readonly Dictionary<string, ProgressTask> _tasks = [];
    private readonly Stopwatch _sinceLine = Stopwatch.StartNew();
    private ProgressContext? _context;

    public TrainingDisplay(IAnsiConsole? console = null)
    {
        _console = console ?? AnsiConsole.Console;
        _interactive = _console.Profile.Capabilities.Interactive && !System.Console.IsOutputRedirected;
    }

    /// <summary>Runs <paramref name="work"/> with the display attached.</summary>
    public T Run<T>(Func<IProgress<string>, IProgress<TrainingProgress>, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var status = new SynchronousProgress<string>(Status);
        var training = new SynchronousProgress<TrainingProgress>(Report);
        if (!_interactive)
        {
            return work(status, training);
        }

        return _console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                _context = context;
                return work(status, training);
            });
    }

    private void Status(string message)
    {
        _console.MarkupLine($"[grey]{DateTime.Now:HH:mm:ss}[/] {Markup.Escape(message)}");
    }

    private void Report(TrainingProgress p)
    {
        var text = $"{p.Name} step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} lr {p.LearningRate:E1} |g| {p.GradientNorm:F2} " +
                   $"{p.SamplesPerSecond:F1} samples/s" + (p.HeldOutLoss is { } h ? $" held-out {h:F4}" : string.Empty);
        if (_context is not null)
        {
            if (!_tasks.TryGetValue(p.Name, out var task))
            {
                task = _context.AddTask(p.Name, maxValue: p.TotalSteps);
                _tasks[p.Name] = task;
            }

            task.Value = p.Step;
            task.Description = Markup.Escape(text);
            return;
        }

        if (p.Step == p.TotalSteps || p.Step == 1 || _sinceLine.Elapsed.TotalSeconds >= 5)
        {
            _sinceLine.Restart();
            _console.WriteLine($"{text} | elapsed {p.Elapsed:hh\\:mm\\:ss} eta {p.Remaining:hh\\:mm\\:ss}");
        }
    }
}
