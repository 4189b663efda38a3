using System.Text.Json.Nodes;
using Sora.Data.Storage;

namespace Sora.Checkpoint.Sharded;

/// <summary>
/// A file a training stage leaves for later stages (the VAE's weights, the latent statistics, the vocabulary), stored
/// once under a content-addressed object name and named by a stage's <c>latest</c> pointer (<see cref="LatestPointer.Outputs"/>),
/// so committing the outputs is one fenced compare-and-swap like a checkpoint commit.
/// </summary>
/// <param name="Object">The object's name in the job's store.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the object's bytes.</param>
/// <param name="Size">Its size in bytes.</param>
public sealed record StageOutput(string Object, string Sha256, long Size)
{
    internal JsonObject ToJson() => new() { ["object"] = Object, ["sha256"] = Sha256, ["size"] = Size };

    internal static StageOutput Parse(JsonFields fields, JsonObject node, string path)
    {
        var name = fields.String(node, "object", path);
        if (!ObjectName.IsValid(name))
        {
            throw fields.Error(JsonFields.Join(path, "object"), $"'{name}' is not a valid object name");
        }

        var sha = fields.String(node, "sha256", path);
        if (sha.Length != 64 || !sha.All(char.IsAsciiHexDigitLower))
        {
            throw fields.Error(JsonFields.Join(path, "sha256"), $"'{sha}' is not a lower-case hex SHA-256");
        }

        return new StageOutput(name, sha, fields.NonNegative(node, "size", path));
    }
}
