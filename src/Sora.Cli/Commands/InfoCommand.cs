using System.CommandLine;
using Sora.Cli.Console;
using Sora.Torch;
using Spectre.Console;

namespace Sora.Cli.Commands;

/// <summary><c>sora info</c>: what this machine's libtorch, BLAS, threads and devices are.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Show libtorch, BLAS, thread and device facts for this machine.");
        command.SetAction(_ =>
        {
            var blas = RuntimeCheck.WarnIfSlowBlas();
            var table = new Table().AddColumns("fact", "value").Border(TableBorder.Rounded);
            table.AddRow("libtorch", Markup.Escape(TorchRuntime.TorchVersion));
            table.AddRow("BLAS library", Markup.Escape(blas.Library));
            table.AddRow("BLAS is OpenBLAS", blas.IsOpenBlas ? "[green]yes[/]" : blas.IsBuiltIntoLibtorch ? "[green]no: libtorch's own (MKL), fast[/]" : "[red]NO: matrix products ~25x slower[/]");
            table.AddRow("OpenBLAS config", Markup.Escape(blas.OpenBlasConfig));
            table.AddRow("cores", Environment.ProcessorCount.ToString());
            table.AddRow("intra-op threads", TorchRuntime.IntraOpThreads.ToString());
            table.AddRow("OpenBLAS threads", TorchRuntime.BlasThreads.ToString());
            table.AddRow("OMP_WAIT_POLICY", Markup.Escape(Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "(unset)"));
            table.AddRow("OPENBLAS_THREAD_TIMEOUT", Markup.Escape(Environment.GetEnvironmentVariable("OPENBLAS_THREAD_TIMEOUT") ?? "(unset)"));
            table.AddRow("CUDA compiled in", TorchRuntime.BuiltWithCuda ? "yes" : "no");
            table.AddRow("CUDA devices", TorchRuntime.CudaDeviceCount.ToString());
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
