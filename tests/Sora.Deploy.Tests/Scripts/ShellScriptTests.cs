using Sora.Checkout;
using Sora.Tools;

namespace Sora.Deploy.Tests.Scripts;

/// <summary>
/// Every shell script the repository tracks (cluster/, scripts/, helm/, test.sh, sora, .ci/run: each <c>*.sh</c> and each
/// file whose first line runs a shell) passes shellcheck, which scripts/bootstrap.sh installs. Sourced files are
/// followed (<c>-x</c>) from the repository's root, as their <c># shellcheck source=</c> directives name them.
/// </summary>
public sealed class ShellScriptTests
{
    [Fact]
    public void Every_shell_script_passes_shellcheck()
    {
        var root = SourceCheckout.Root();
        var scripts = ShellScripts(root);
        scripts.Should().Contain(["test.sh", "sora", ".ci/run", "scripts/bootstrap.sh", "cluster/netns.sh"], "the scripts are found by name and by their first line");

        var check = ShellCheck(root, scripts);
        check.ExitCode.Should().Be(0, "shellcheck reports, as file:line:column, what to fix:\n" + check.StandardOutput + check.StandardError);
    }

    [Fact]
    public void A_finding_fails_the_check_naming_the_file_and_line()
    {
        var directory = Directory.CreateTempSubdirectory("sora-shellcheck-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "bad.sh"), "#!/usr/bin/env bash\necho ok\nrm -rf $1/cache\n");
            var check = ShellCheck(directory, ["bad.sh"]);
            check.ExitCode.Should().NotBe(0);
            check.StandardOutput.Should().Contain("bad.sh:3:").And.Contain("SC2086");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static ToolResult ShellCheck(string directory, IReadOnlyList<string> scripts)
    {
        try
        {
            return ToolProcess.Run("shellcheck", ["--external-sources", "--format=gcc", .. scripts], directory, timeout: TimeSpan.FromMinutes(2));
        }
        catch (System.ComponentModel.Win32Exception error)
        {
            throw new InvalidOperationException("shellcheck is not installed: run ./scripts/bootstrap.sh (it installs the Debian package)", error);
        }
    }

    /// <summary>The tracked files that are shell scripts, relative to <paramref name="root"/>.</summary>
    private static List<string> ShellScripts(string root)
    {
        var files = ToolProcess.Run("git", ["ls-files", "-z"], root);
        files.ExitCode.Should().Be(0, files.Output);
        return files.StandardOutput.Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Where(path => File.Exists(Path.Combine(root, path)) && (path.EndsWith(".sh", StringComparison.Ordinal) || RunsAShell(Path.Combine(root, path))))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static bool RunsAShell(string file)
    {
        using var reader = new StreamReader(file);
        var first = reader.ReadLine() ?? "";
        return first.StartsWith("#!", StringComparison.Ordinal) && first.Split(['/', ' '], StringSplitOptions.RemoveEmptyEntries).LastOrDefault() is "sh" or "bash" or "dash";
    }
}
