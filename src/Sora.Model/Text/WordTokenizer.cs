using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sora.Model.Text;

/// <summary>
/// A word-level tokenizer whose vocabulary is built from the dataset's captions and saved with the
/// checkpoint. Id 0 pads, id 1 is an unknown word. An empty caption encodes to all padding: the
/// unconditional input for classifier-free guidance.
/// </summary>
public sealed partial class WordTokenizer
{
    public const long PadId = 0;
    public const long UnknownId = 1;
    private const string PadToken = "<pad>";
    private const string UnknownToken = "<unk>";

    private readonly Dictionary<string, long> _ids;
    private readonly string[] _words;

    private WordTokenizer(string[] words)
    {
        _words = words;
        _ids = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < words.Length; i++)
        {
            if (!_ids.TryAdd(words[i], i))
            {
                throw new InvalidDataException($"vocabulary lists '{words[i]}' twice");
            }
        }
    }

    /// <summary>Number of ids, specials included.</summary>
    public int VocabularySize => _words.Length;

    public IReadOnlyList<string> Words => _words;

    /// <summary>Builds a vocabulary of every word seen at least <paramref name="minCount"/> times, in a deterministic order.</summary>
    public static WordTokenizer Build(IEnumerable<string> captions, int minCount = 1)
    {
        ArgumentNullException.ThrowIfNull(captions);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var caption in captions)
        {
            foreach (var word in Split(caption))
            {
                counts[word] = counts.GetValueOrDefault(word) + 1;
            }
        }

        var words = counts.Where(kv => kv.Value >= minCount).Select(kv => kv.Key).Order(StringComparer.Ordinal);
        return new WordTokenizer([PadToken, UnknownToken, .. words]);
    }

    /// <summary>Lower-cased words of a caption, punctuation dropped.</summary>
    public static IEnumerable<string> Split(string caption) =>
        WordPattern().Matches(caption.ToLowerInvariant()).Select(m => m.Value);

    /// <summary>Ids of the caption's words, padded or cut to <paramref name="length"/>.</summary>
    public long[] Encode(string caption, int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        var ids = new long[length];
        var i = 0;
        foreach (var word in Split(caption ?? string.Empty))
        {
            if (i == length)
            {
                break;
            }

            ids[i++] = _ids.TryGetValue(word, out var id) ? id : UnknownId;
        }

        return ids;
    }

    public string Decode(IEnumerable<long> ids) =>
        string.Join(' ', ids.Where(id => id != PadId).Select(id => id >= 0 && id < _words.Length ? _words[id] : UnknownToken));

    public string ToJson() => JsonSerializer.Serialize(new VocabularyFile(1, _words));

    public static WordTokenizer FromJson(string json, string source = "vocabulary")
    {
        VocabularyFile? file;
        try
        {
            file = JsonSerializer.Deserialize<VocabularyFile>(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not a vocabulary file: {e.Message}", e);
        }

        if (file is null || file.Version != 1 || file.Words is null || file.Words.Length < 2 || file.Words[0] != PadToken || file.Words[1] != UnknownToken)
        {
            throw new InvalidDataException($"{source}: expected version 1 with \"{PadToken}\" and \"{UnknownToken}\" as the first two words");
        }

        return new WordTokenizer(file.Words);
    }

    public void Save(string path) => File.WriteAllText(path, ToJson());

    public static WordTokenizer Load(string path) => FromJson(File.ReadAllText(path), path);

    [GeneratedRegex("[a-z0-9]+")]
    private static partial Regex WordPattern();

    private sealed record VocabularyFile(int Version, string[] Words);
}
