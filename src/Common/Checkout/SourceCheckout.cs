namespace Sora.Checkout;

/// <summary>
/// The source checkout this code runs from: the nearest folder above the running assembly that holds
/// Sora.Distributed.sln (where scripts/bootstrap.sh installs the npm peers into tools/node, and configs/ lives).
/// One source file compiled into each assembly that needs it (see src/Common/README.md).
/// </summary>
internal static class SourceCheckout
{
    private const string SolutionFile = "Sora.Distributed.sln";

    /// <summary>The checkout's root folder; throws, naming where it looked, when the code does not run from a checkout.</summary>
    public static string Root()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, SolutionFile)))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"cannot find the source checkout ({SolutionFile}) above {AppContext.BaseDirectory}; tools/node and configs/ live there");
    }

    /// <summary>A path below the checkout's root, e.g. <c>PathOf("tools", "node", "node_modules")</c>.</summary>
    public static string PathOf(params string[] parts) => Path.Combine([Root(), .. parts]);
}
