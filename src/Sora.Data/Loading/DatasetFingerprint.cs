using System.Security.Cryptography;
using System.Text;

namespace Sora.Data.Loading;

/// <summary>
/// A short hash of a dataset's shard list (ids, row counts, versions, in order). The sample order is a function of
/// (seed, epoch, shard list), so a cursor is only meaningful against the dataset with the same fingerprint.
/// </summary>
public static class DatasetFingerprint
{
    /// <summary>"sha256:" and the first 16 bytes of the SHA-256 of the shard list, in hex.</summary>
    public static string Of(IReadOnlyList<ShardInfo> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        var text = new StringBuilder();
        foreach (var shard in shards)
        {
            // Lengths before strings: no two different lists give the same text.
            text.Append(shard.Id.Length).Append(':').Append(shard.Id).Append('|')
                .Append(shard.Rows).Append('|')
                .Append(shard.Version?.Length ?? -1).Append(':').Append(shard.Version).Append('\n');
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
        return "sha256:" + Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }
}
