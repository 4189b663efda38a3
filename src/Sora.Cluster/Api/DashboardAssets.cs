using System.Reflection;

namespace Sora.Cluster.Api;

/// <summary>
/// The dashboard's static files (src/Sora.Cluster/Dashboard/wwwroot and the charting library from npm), embedded in
/// this assembly as resources named <c>dashboard/&lt;path&gt;</c> by the build, so a published <c>sora</c> carries them
/// and nothing is fetched at run time. They hold no job data, so they are served without the token.
/// </summary>
public static class DashboardAssets
{
    private const string Prefix = "dashboard/";

    private static readonly Dictionary<string, string> s_types = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".mjs"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".ico"] = "image/x-icon",
        [".json"] = "application/json",
    };

    /// <summary>The file at <paramref name="path"/> (relative to the dashboard's root; "" is index.html), or null.</summary>
    public static (byte[] Content, string ContentType)? Find(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var relative = path.Length == 0 ? "index.html" : path.TrimStart('/');
        if (relative.Contains("..", StringComparison.Ordinal))
        {
            return null;
        }

        using var stream = typeof(DashboardAssets).Assembly.GetManifestResourceStream(Prefix + relative);
        if (stream is null)
        {
            return null;
        }

        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var type = s_types.GetValueOrDefault(Path.GetExtension(relative), "application/octet-stream");
        return (copy.ToArray(), type);
    }

    /// <summary>Every embedded dashboard file's path (for tests and diagnostics).</summary>
    public static IReadOnlyList<string> List() =>
        [.. typeof(DashboardAssets).Assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).Select(n => n[Prefix.Length..])];


}
