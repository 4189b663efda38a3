namespace Sora.Data.Storage;

/// <summary>
/// The rules every store applies to object names, so a name valid in one store is valid in all and can never
/// escape a local root directory: '/'-separated segments, no empty segment (no leading, trailing or double
/// '/'), no "..", no segment "." or ending in '.' (Azure drops trailing dots), no backslash, no drive or
/// absolute path, no control character, at most 1024 characters, and no segment starting with the prefix
/// the local store reserves for its temporary and lock files (".sora-").
/// </summary>
public static class ObjectName
{
    /// <summary>Segments starting with this are the local store's own temporary and lock files.</summary>
    public const string ReservedPrefix = ".sora-";

    /// <summary>The longest name accepted (Azure's limit for blob names).</summary>
    public const int MaxLength = 1024;

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="name"/> and the rule it breaks.</summary>
    public static void Validate(string name, string parameterName = "name")
    {
        if (Problem(name, isPrefix: false) is { } problem)
        {
            throw new ArgumentException($"invalid object name '{Printable(name)}': {problem}", parameterName);
        }
    }

    /// <summary>Validates a listing prefix: empty, or a name start that obeys the same rules (it may end with '/').</summary>
    public static void ValidatePrefix(string prefix, string parameterName = "prefix")
    {
        ArgumentNullException.ThrowIfNull(prefix, parameterName);
        if (prefix.Length > 0 && Problem(prefix, isPrefix: true) is { } problem)
        {
            throw new ArgumentException($"invalid object name prefix '{Printable(prefix)}': {problem}", parameterName);
        }
    }

    /// <summary>True when <paramref name="name"/> obeys every rule.</summary>
    public static bool IsValid(string name) => Problem(name, isPrefix: false) is null;

    private static string? Problem(string? name, bool isPrefix)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "it is empty";
        }

        if (name.Length > MaxLength)
        {
            return $"it is {name.Length} characters long (at most {MaxLength})";
        }

        foreach (var c in name)
        {
            if (char.IsControl(c))
            {
                return $"it contains the control character U+{(int)c:X4}";
            }
        }

        if (name.Contains('\\', StringComparison.Ordinal))
        {
            return "it contains a backslash (use '/' to separate segments)";
        }

        if (name[0] == '/' || (name.Length >= 2 && char.IsAsciiLetter(name[0]) && name[1] == ':'))
        {
            return "it is an absolute path (names are relative to the store)";
        }

        if (name.Contains("..", StringComparison.Ordinal))
        {
            return "it contains '..'";
        }

        var segments = name.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var last = i == segments.Length - 1;
            if (segment.Length == 0)
            {
                if (isPrefix && last)
                {
                    continue;
                }

                return last ? "it ends with '/'" : "it has an empty segment ('//')";
            }

            if (segment.EndsWith('.') && !(isPrefix && last))
            {
                return $"segment '{segment}' ends with '.'";
            }

            if (segment.StartsWith(ReservedPrefix, StringComparison.Ordinal))
            {
                return $"segment '{segment}' starts with '{ReservedPrefix}', which the local store reserves for its temporary and lock files";
            }
        }

        return null;
    }

    private static string Printable(string? name) =>
        name is null ? "(null)" : string.Concat(name.Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString()));
}
