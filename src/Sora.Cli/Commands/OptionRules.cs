using System.CommandLine;

namespace Sora.Cli.Commands;

/// <summary>Validation rules shared by commands' options.</summary>
internal static class OptionRules
{
    /// <summary>Refuses a value below <paramref name="least"/> for each of <paramref name="options"/> (integer options), naming the option.</summary>
    public static void RequireAtLeast(long least, params Option[] options)
    {
        foreach (var option in options)
        {
            option.Validators.Add(result =>
            {
                if (Convert.ToInt64(result.GetValueOrDefault<object>(), System.Globalization.CultureInfo.InvariantCulture) < least)
                {
                    result.AddError($"{result.Option.Name} must be at least {least}");
                }
            });
        }
    }
}
