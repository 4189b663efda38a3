using System.Globalization;
using System.Text;

namespace Sora.Checkpoint.Stores;

/// <summary>
/// Builds SAS tokens signed with an account key: an account SAS for the Blob service, or a service SAS for one
/// container. The token is what <see cref="BlobCredential.Sas"/> takes; give it to a process that must not hold
/// the key (a worker that only writes checkpoints).
/// </summary>
public static class SharedAccessSignature
{
    /// <summary>The signed version (sv) of the tokens built here; it fixes the layout of the string to sign.</summary>
    public const string SignedVersion = "2020-12-06";

    /// <summary>
    /// An account SAS for the Blob service. <paramref name="permissions"/> uses the service's letters in its
    /// order (r read, a add, c create, w write, d delete, l list); <paramref name="resourceTypes"/> is a subset of
    /// "sco" (service, container, object).
    /// </summary>
    public static string ForAccount(SharedKeyCredential key, string permissions, DateTimeOffset expiresOn, string resourceTypes = "sco", DateTimeOffset? startsOn = null, bool httpsOnly = false)
    {
        ArgumentNullException.ThrowIfNull(key);
        CheckLetters(permissions, "racwdxltmeopi", nameof(permissions));
        CheckLetters(resourceTypes, "sco", nameof(resourceTypes));
        var start = startsOn is { } s ? Format(s) : string.Empty;
        var expiry = Format(expiresOn);
        var protocol = httpsOnly ? "https" : "https,http";
        var stringToSign = string.Join('\n', key.AccountName, permissions, "b", resourceTypes, start, expiry, string.Empty, protocol, SignedVersion, string.Empty) + "\n";
        var query = new StringBuilder();
        Append(query, "sv", SignedVersion);
        Append(query, "ss", "b");
        Append(query, "srt", resourceTypes);
        Append(query, "sp", permissions);
        Append(query, "st", start);
        Append(query, "se", expiry);
        Append(query, "spr", protocol);
        Append(query, "sig", SharedKeySigningPolicy.Sign(key.Key, stringToSign));
        return query.ToString();
    }

    /// <summary>
    /// A service SAS for one container (signed resource "c"). <paramref name="permissions"/> uses the service's
    /// letters in its order (r read, a add, c create, w write, d delete, l list).
    /// </summary>
    public static string ForContainer(SharedKeyCredential key, string containerName, string permissions, DateTimeOffset expiresOn, DateTimeOffset? startsOn = null, bool httpsOnly = false)
    {
        ArgumentNullException.ThrowIfNull(key);
        AzureBlobStore.ValidateContainerName(containerName);
        CheckLetters(permissions, "racwdxltmeopi", nameof(permissions));
        var start = startsOn is { } s ? Format(s) : string.Empty;
        var expiry = Format(expiresOn);
        var protocol = httpsOnly ? "https" : "https,http";
        var resource = $"/blob/{key.AccountName}/{containerName}";
        // permissions, start, expiry, resource, identifier, IP, protocol, version, resource type, snapshot time,
        // encryption scope, then the five response-header overrides (rscc, rscd, rsce, rscl, rsct).
        var stringToSign = string.Join('\n', permissions, start, expiry, resource, string.Empty, string.Empty, protocol, SignedVersion, "c", string.Empty, string.Empty, string.Empty, string.Empty, string.Empty, string.Empty, string.Empty);
        var query = new StringBuilder();
        Append(query, "sv", SignedVersion);
        Append(query, "sr", "c");
        Append(query, "sp", permissions);
        Append(query, "st", start);
        Append(query, "se", expiry);
        Append(query, "spr", protocol);
        Append(query, "sig", SharedKeySigningPolicy.Sign(key.Key, stringToSign));
        return query.ToString();
    }

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static void Append(StringBuilder query, string name, string value)
    {
        if (value.Length == 0)
        {
            return;
        }

        if (query.Length > 0)
        {
            query.Append('&');
        }

        query.Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }

    private static void CheckLetters(string value, string allowedInOrder, string parameterName)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, parameterName);
        var last = -1;
        foreach (var c in value)
        {
            var index = allowedInOrder.IndexOf(c, StringComparison.Ordinal);
            if (index < 0 || index <= last)
            {
                throw new ArgumentException($"'{value}' is not a valid SAS {parameterName} string: use letters from '{allowedInOrder}' once each, in that order", parameterName);
            }

            last = index;
        }
    }
}
