namespace Sora.Data.Video;

/// <summary>
/// The connected regions of a foreground mask (8-connected: pixels touching at a corner belong together, so a thin
/// diagonal edge of a blurred shape does not split it), largest first, without the specks below a least area.
/// </summary>
public static class ForegroundRegions
{
    /// <summary>The regions of <paramref name="mask"/> (row-major, <paramref name="height"/> × <paramref name="width"/>) of at least <paramref name="minArea"/> pixels, each as its pixel indices, largest first.</summary>
    public static IReadOnlyList<int[]> Find(bool[] mask, int height, int width, int minArea)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.Length != height * width)
        {
            throw new ArgumentException($"a mask of {mask.Length} pixels is not {height}x{width}", nameof(mask));
        }

        var seen = new bool[mask.Length];
        var regions = new List<int[]>();
        var stack = new Stack<int>();
        for (var start = 0; start < mask.Length; start++)
        {
            if (!mask[start] || seen[start])
            {
                continue;
            }

            var region = new List<int>();
            seen[start] = true;
            stack.Push(start);
            while (stack.Count > 0)
            {
                var p = stack.Pop();
                region.Add(p);
                foreach (var q in Neighbourhood(p, height, width))
                {
                    if (mask[q] && !seen[q])
                    {
                        seen[q] = true;
                        stack.Push(q);
                    }
                }
            }

            if (region.Count >= minArea)
            {
                regions.Add([.. region]);
            }
        }

        return [.. regions.OrderByDescending(r => r.Length)];
    }

    /// <summary>
    /// <paramref name="region"/> with every pixel within <paramref name="pixels"/> steps (8-neighbours) of it: takes back the
    /// corners and blurred rims that a thresholded, speckle-filtered mask cuts off.
    /// </summary>
    public static int[] Grow(IReadOnlyList<int> region, int height, int width, int pixels)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentOutOfRangeException.ThrowIfNegative(pixels);
        var grown = new HashSet<int>(region);
        for (var step = 0; step < pixels; step++)
        {
            foreach (var p in grown.ToArray())
            {
                grown.UnionWith(Neighbourhood(p, height, width));
            }
        }

        return [.. grown.Order()];
    }

    /// <summary>Pixel <paramref name="p"/> and its 8 neighbours that lie inside the frame.</summary>
    internal static IEnumerable<int> Neighbourhood(int p, int height, int width)
    {
        int y = p / width, x = p % width;
        for (var yy = Math.Max(0, y - 1); yy <= Math.Min(height - 1, y + 1); yy++)
        {
            for (var xx = Math.Max(0, x - 1); xx <= Math.Min(width - 1, x + 1); xx++)
            {
                yield return (yy * width) + xx;
            }
        }
    }
}
